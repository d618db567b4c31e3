import { api } from "@/lib/api";
import { ApiError, apiErrorFromBody, errorMessage, networkError } from "@/lib/api/errors";
import type { SharedDocument } from "@/lib/api/teams-contract";

/*
 * Uploads go through XMLHttpRequest because fetch() reports no upload progress.
 * One request per file, so every file gets its own progress bar and its own error.
 */

export type UploadStatus = "waiting" | "uploading" | "done" | "error";

export type UploadItem = {
  key: string;
  name: string;
  size: number;
  loaded: number;
  status: UploadStatus;
  error: string | null;
  documentId: string | null;
};

export type UploadAction =
  | { type: "added"; items: { key: string; name: string; size: number }[] }
  | { type: "started"; key: string }
  | { type: "progressed"; key: string; loaded: number; total: number }
  | { type: "succeeded"; key: string; documentId: string | null }
  | { type: "failed"; key: string; message: string }
  | { type: "dismissed"; key: string }
  | { type: "finishedCleared" };

/** Whole-number percentage of a file sent, clamped to 0..100 (100 once done). */
export function uploadPercent(item: Pick<UploadItem, "loaded" | "size" | "status">): number {
  if (item.status === "done") return 100;
  if (item.size <= 0) return 0;
  return Math.max(0, Math.min(100, Math.floor((item.loaded / item.size) * 100)));
}

export function uploadsReducer(state: UploadItem[], action: UploadAction): UploadItem[] {
  switch (action.type) {
    case "added":
      return [
        ...state,
        ...action.items.map((item) => ({
          ...item,
          loaded: 0,
          status: "waiting" as const,
          error: null,
          documentId: null,
        })),
      ];
    case "started":
      return state.map((item) => (item.key === action.key ? { ...item, status: "uploading", loaded: 0 } : item));
    case "progressed":
      return state.map((item) => {
        if (item.key !== action.key || item.status !== "uploading") return item;
        // The browser reports the multipart body size; scale it to the file's own size.
        const ratio = action.total > 0 ? Math.min(1, action.loaded / action.total) : 0;
        return { ...item, loaded: Math.max(item.loaded, Math.round(ratio * item.size)) };
      });
    case "succeeded":
      return state.map((item) =>
        item.key === action.key ? { ...item, status: "done", loaded: item.size, documentId: action.documentId } : item,
      );
    case "failed":
      return state.map((item) => (item.key === action.key ? { ...item, status: "error", error: action.message } : item));
    case "dismissed":
      return state.filter((item) => item.key !== action.key);
    case "finishedCleared":
      return state.filter((item) => item.status !== "done");
  }
}

/** The part of XMLHttpRequest used here (lets tests supply a fake). */
export type XhrLike = Pick<
  XMLHttpRequest,
  "open" | "send" | "setRequestHeader" | "abort" | "status" | "responseText" | "getResponseHeader"
> & {
  upload: Pick<XMLHttpRequestUpload, "addEventListener">;
  addEventListener: XMLHttpRequest["addEventListener"];
};

export type RawUploadResult = { status: number; bodyText: string; requestId: string | null };

/** Sends one file as multipart field `files` (plus `fields`), reporting progress of the request body. */
export function sendFileWithProgress(options: {
  url: string;
  file: File;
  fields?: Record<string, string>;
  accessToken: string | null;
  onProgress: (loaded: number, total: number) => void;
  signal?: AbortSignal;
  createXhr?: () => XhrLike;
}): Promise<RawUploadResult> {
  const xhr = options.createXhr ? options.createXhr() : (new XMLHttpRequest() as XhrLike);
  return new Promise((resolve, reject) => {
    xhr.open("POST", options.url);
    xhr.setRequestHeader("Accept", "application/json");
    if (options.accessToken) xhr.setRequestHeader("Authorization", `Bearer ${options.accessToken}`);
    xhr.upload.addEventListener("progress", (event: ProgressEvent) => {
      if (event.lengthComputable) options.onProgress(event.loaded, event.total);
    });
    xhr.addEventListener("load", () =>
      resolve({ status: xhr.status, bodyText: xhr.responseText, requestId: xhr.getResponseHeader("X-Request-ID") }),
    );
    xhr.addEventListener("error", () => reject(networkError(new Error("upload failed"))));
    xhr.addEventListener("abort", () => reject(new DOMException("Upload cancelled", "AbortError")));
    options.signal?.addEventListener("abort", () => xhr.abort(), { once: true });
    const form = new FormData();
    form.append("files", options.file, options.file.name);
    for (const [name, value] of Object.entries(options.fields ?? {})) form.append(name, value);
    xhr.send(form);
  });
}

/**
 * Uploads one file with the current session (into a collection when `collectionId` is given):
 * on a 401 the token is renewed through the shared single-flight refresh and the upload is
 * retried once.
 */
export async function uploadDocument(
  file: File,
  onProgress: (loaded: number, total: number) => void,
  signal?: AbortSignal,
  collectionId?: string | null,
  folder?: string | null,
): Promise<SharedDocument[]> {
  const url = `${api.baseUrl}/api/v1/documents`;
  const fields = { ...(collectionId ? { collection_id: collectionId } : {}), ...(folder ? { folder } : {}) };
  const firstToken = api.tokens.getAccessToken();
  let result = await sendFileWithProgress({ url, file, fields, accessToken: firstToken, onProgress, signal });
  if (result.status === 401) {
    const freshToken = await api.refreshAccessToken(firstToken).catch(() => null);
    if (!freshToken) throw new ApiError({ status: 401, code: "unauthorized", message: "Your session has expired. Please sign in again." });
    result = await sendFileWithProgress({ url, file, fields, accessToken: freshToken, onProgress, signal });
  }
  if (result.status < 200 || result.status >= 300) {
    throw apiErrorFromBody(result.status, result.bodyText, result.requestId);
  }
  return JSON.parse(result.bodyText) as SharedDocument[];
}

/**
 * Why an upload failed, in words. A quota refusal is labelled as one; the API's message says
 * which limit, by how much, and what to do.
 */
export function uploadErrorMessage(error: unknown): string {
  if (error instanceof ApiError && error.code === "quota_exceeded") return `Quota exceeded. ${error.message}`;
  return errorMessage(error);
}

/** A file to send, the collection it goes into (none: the user's own documents only) and the folder it came from. */
export type UploadJob = { key: string; file: File; collectionId?: string | null; folder?: string | null };

type UploadQueueOptions = {
  concurrency: number;
  upload: (
    file: File,
    onProgress: (loaded: number, total: number) => void,
    signal: AbortSignal,
    collectionId?: string | null,
    folder?: string | null,
  ) => Promise<SharedDocument[]>;
  dispatch: (action: UploadAction) => void;
  onUploaded: (documents: SharedDocument[], collectionId: string | null) => void;
  describeError: (error: unknown) => string;
};

/** Runs uploads a few at a time and reports every step as an UploadAction. */
export function createUploadQueue(options: UploadQueueOptions) {
  let waiting: UploadJob[] = [];
  let running = 0;
  const controllers = new Map<string, AbortController>();

  const runNext = (): void => {
    while (running < options.concurrency && waiting.length > 0) {
      const job = waiting.shift();
      if (!job) return;
      running += 1;
      const controller = new AbortController();
      controllers.set(job.key, controller);
      options.dispatch({ type: "started", key: job.key });
      options
        .upload(
          job.file,
          (loaded, total) => options.dispatch({ type: "progressed", key: job.key, loaded, total }),
          controller.signal,
          job.collectionId,
          job.folder,
        )
        .then((documents) => {
          options.dispatch({ type: "succeeded", key: job.key, documentId: documents[0]?.id ?? null });
          options.onUploaded(documents, job.collectionId ?? null);
        })
        .catch((error: unknown) => {
          const cancelled = error instanceof DOMException && error.name === "AbortError";
          options.dispatch({ type: "failed", key: job.key, message: cancelled ? "Upload cancelled." : options.describeError(error) });
        })
        .finally(() => {
          controllers.delete(job.key);
          running -= 1;
          runNext();
        });
    }
  };

  return {
    add(jobs: UploadJob[]) {
      if (jobs.length === 0) return;
      options.dispatch({ type: "added", items: jobs.map(({ key, file }) => ({ key, name: file.name, size: file.size })) });
      waiting.push(...jobs);
      runNext();
    },
    cancel(key: string) {
      const controller = controllers.get(key);
      if (controller) {
        controller.abort();
        return;
      }
      waiting = waiting.filter((job) => job.key !== key);
      options.dispatch({ type: "dismissed", key });
    },
    cancelAll() {
      waiting = [];
      controllers.forEach((controller) => controller.abort());
    },
  };
}
