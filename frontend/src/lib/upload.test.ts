import { describe, expect, it, vi } from "vitest";
import { ApiError, type DocumentRecord } from "@/lib/api";
import {
  createUploadQueue,
  sendFileWithProgress,
  uploadErrorMessage,
  uploadPercent,
  uploadsReducer,
  type UploadAction,
  type UploadItem,
  type XhrLike,
} from "./upload";

function item(overrides: Partial<UploadItem> = {}): UploadItem {
  return { key: "k", name: "a.pdf", size: 1000, loaded: 0, status: "uploading", error: null, documentId: null, ...overrides };
}

describe("uploadPercent", () => {
  it("is a clamped whole number, 100 once done", () => {
    expect(uploadPercent(item({ loaded: 0 }))).toBe(0);
    expect(uploadPercent(item({ loaded: 333 }))).toBe(33);
    expect(uploadPercent(item({ loaded: 5000 }))).toBe(100);
    expect(uploadPercent(item({ loaded: 10, status: "done" }))).toBe(100);
    expect(uploadPercent(item({ size: 0 }))).toBe(0);
  });
});

describe("uploadsReducer", () => {
  const run = (actions: UploadAction[]) => actions.reduce(uploadsReducer, [] as UploadItem[]);

  it("follows one file from waiting to done", () => {
    const added = run([{ type: "added", items: [{ key: "a", name: "a.pdf", size: 1000 }] }]);
    expect(added[0]).toMatchObject({ status: "waiting", loaded: 0 });

    // Progress events count the multipart body (bigger than the file): scaled to the file size.
    const halfway = run([
      { type: "added", items: [{ key: "a", name: "a.pdf", size: 1000 }] },
      { type: "started", key: "a" },
      { type: "progressed", key: "a", loaded: 600, total: 1200 },
    ]);
    expect(halfway[0]).toMatchObject({ status: "uploading", loaded: 500 });
    expect(uploadPercent(halfway[0]!)).toBe(50);

    const done = uploadsReducer(halfway, { type: "succeeded", key: "a", documentId: "doc-1" });
    expect(done[0]).toMatchObject({ status: "done", loaded: 1000, documentId: "doc-1" });
  });

  it("never moves progress backwards and ignores progress of other files", () => {
    const state = run([
      { type: "added", items: [{ key: "a", name: "a", size: 100 }, { key: "b", name: "b", size: 100 }] },
      { type: "started", key: "a" },
      { type: "progressed", key: "a", loaded: 80, total: 100 },
      { type: "progressed", key: "a", loaded: 40, total: 100 },
      { type: "progressed", key: "b", loaded: 50, total: 100 },
    ]);
    expect(state.map((upload) => upload.loaded)).toEqual([80, 0]);
  });

  it("records failures with their message and clears finished rows only", () => {
    const state = run([
      { type: "added", items: [{ key: "a", name: "a", size: 1 }, { key: "b", name: "b", size: 1 }] },
      { type: "failed", key: "a", message: "This file type is not supported." },
      { type: "succeeded", key: "b", documentId: null },
      { type: "finishedCleared" },
    ]);
    expect(state).toHaveLength(1);
    expect(state[0]).toMatchObject({ key: "a", status: "error", error: "This file type is not supported." });
  });
});

/** A scriptable stand-in for XMLHttpRequest. */
class FakeXhr implements XhrLike {
  status = 0;
  responseText = "";
  headers: Record<string, string> = {};
  sentBody: Document | XMLHttpRequestBodyInit | null | undefined = null;
  opened: [string, string] | null = null;
  private listeners = new Map<string, ((event: ProgressEvent) => void)[]>();
  private uploadListeners = new Map<string, ((event: ProgressEvent) => void)[]>();
  upload = {
    addEventListener: ((type: string, listener: (event: ProgressEvent) => void) => {
      this.uploadListeners.set(type, [...(this.uploadListeners.get(type) ?? []), listener]);
    }) as XMLHttpRequestUpload["addEventListener"],
  };
  addEventListener = ((type: string, listener: (event: ProgressEvent) => void) => {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }) as XMLHttpRequest["addEventListener"];
  open = ((method: string, url: string) => {
    this.opened = [method, url];
  }) as XMLHttpRequest["open"];
  setRequestHeader(name: string, value: string) {
    this.headers[name] = value;
  }
  send(body?: Document | XMLHttpRequestBodyInit | null) {
    this.sentBody = body;
  }
  abort() {
    this.emit("abort");
  }
  getResponseHeader(name: string) {
    return name.toLowerCase() === "x-request-id" ? "req-7" : null;
  }
  progress(loaded: number, total: number) {
    for (const listener of this.uploadListeners.get("progress") ?? []) {
      listener({ lengthComputable: true, loaded, total } as ProgressEvent);
    }
  }
  respond(status: number, body: string) {
    this.status = status;
    this.responseText = body;
    this.emit("load");
  }
  emit(type: string) {
    for (const listener of this.listeners.get(type) ?? []) listener({} as ProgressEvent);
  }
}

describe("sendFileWithProgress", () => {
  it("posts the file as multipart field `files` with the token and reports progress", async () => {
    const xhr = new FakeXhr();
    const onProgress = vi.fn();
    const file = new File(["hello"], "hello.txt", { type: "text/plain" });

    const result = sendFileWithProgress({ url: "/api/v1/documents", file, accessToken: "tok", onProgress, createXhr: () => xhr });
    xhr.progress(2, 10);
    xhr.progress(10, 10);
    xhr.respond(202, "[]");

    await expect(result).resolves.toEqual({ status: 202, bodyText: "[]", requestId: "req-7" });
    expect(xhr.opened).toEqual(["POST", "/api/v1/documents"]);
    expect(xhr.headers.Authorization).toBe("Bearer tok");
    expect(xhr.sentBody).toBeInstanceOf(FormData);
    expect((xhr.sentBody as FormData).get("files")).toBeInstanceOf(File);
    expect(onProgress.mock.calls).toEqual([
      [2, 10],
      [10, 10],
    ]);
  });

  it("sends extra form fields (the collection to upload into) next to the file", async () => {
    const xhr = new FakeXhr();
    const file = new File(["hello"], "hello.txt", { type: "text/plain" });
    const result = sendFileWithProgress({
      url: "/api/v1/documents",
      file,
      fields: { collection_id: "c1" },
      accessToken: "tok",
      onProgress: () => {},
      createXhr: () => xhr,
    });
    xhr.respond(202, "[]");
    await result;
    expect((xhr.sentBody as FormData).get("collection_id")).toBe("c1");
    expect((xhr.sentBody as FormData).get("files")).toBeInstanceOf(File);
  });

  it("aborts when the signal fires", async () => {
    const xhr = new FakeXhr();
    const controller = new AbortController();
    const result = sendFileWithProgress({
      url: "/u",
      file: new File(["x"], "x.txt"),
      accessToken: null,
      onProgress: () => {},
      signal: controller.signal,
      createXhr: () => xhr,
    });
    controller.abort();
    await expect(result).rejects.toMatchObject({ name: "AbortError" });
  });
});

describe("createUploadQueue", () => {
  it("sends at most `concurrency` files at once and reports each outcome", async () => {
    const actions: UploadAction[] = [];
    const resolvers: ((documents: DocumentRecord[]) => void)[] = [];
    const rejecters: ((error: Error) => void)[] = [];
    const upload = vi.fn(
      () =>
        new Promise<DocumentRecord[]>((resolve, reject) => {
          resolvers.push(resolve);
          rejecters.push(reject);
        }),
    );
    const onUploaded = vi.fn();
    const queue = createUploadQueue({
      concurrency: 2,
      upload,
      dispatch: (action) => actions.push(action),
      onUploaded,
      describeError: (error) => (error as Error).message,
    });

    queue.add(["a", "b", "c"].map((name) => ({ key: name, file: new File([name], `${name}.txt`) })));
    expect(upload).toHaveBeenCalledTimes(2);

    resolvers[0]?.([{ id: "doc-a" } as DocumentRecord]);
    await vi.waitFor(() => expect(upload).toHaveBeenCalledTimes(3));
    rejecters[1]?.(new Error("The file is too large."));
    resolvers[2]?.([]);
    await vi.waitFor(() => expect(actions.filter((action) => action.type === "succeeded")).toHaveLength(2));

    expect(onUploaded).toHaveBeenCalledWith([{ id: "doc-a" }], null);
    expect(actions).toContainEqual({ type: "failed", key: "b", message: "The file is too large." });
    expect(actions).toContainEqual({ type: "succeeded", key: "a", documentId: "doc-a" });
  });
});

describe("uploads into a collection", () => {
  it("hands each job's collection to the upload and to onUploaded", async () => {
    const upload = vi.fn(async () => [{ id: "doc-1" } as DocumentRecord]);
    const onUploaded = vi.fn();
    const queue = createUploadQueue({ concurrency: 1, upload, dispatch: () => {}, onUploaded, describeError: String });
    queue.add([{ key: "a", file: new File(["a"], "a.txt"), collectionId: "c1", folder: "reports/2024" }]);
    await vi.waitFor(() => expect(onUploaded).toHaveBeenCalledWith([{ id: "doc-1" }], "c1"));
    expect(upload).toHaveBeenCalledWith(expect.any(File), expect.any(Function), expect.any(AbortSignal), "c1", "reports/2024");
  });
});

describe("uploadErrorMessage", () => {
  it("labels a quota refusal as one, keeping the API's numbers and advice", () => {
    const message =
      "Storage limit reached: your account may store 500 MB and stores 480.0 MB; this upload adds 32.0 MB, 12.0 MB over the limit. " +
      "Delete some documents, or ask an administrator for a larger quota.";
    expect(uploadErrorMessage(new ApiError({ status: 403, code: "quota_exceeded", message }))).toBe(`Quota exceeded. ${message}`);
    // Another 403 is not a quota problem.
    expect(uploadErrorMessage(new ApiError({ status: 403, code: "forbidden", message: "Only editors can upload here." }))).toBe(
      "Only editors can upload here.",
    );
  });

  it("passes other errors through as the API words them", () => {
    expect(uploadErrorMessage(new ApiError({ status: 415, code: "unsupported_type", message: "This file type is not supported." }))).toBe(
      "This file type is not supported.",
    );
  });
});
