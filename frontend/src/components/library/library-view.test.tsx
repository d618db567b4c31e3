import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { fakeApi, json, polyfillDialog, renderWithQueries, sizeElementsForVirtualLists, type ApiCall } from "@/test/fake-api";
import { SEARCH_DEBOUNCE_MS } from "./library-toolbar";
import { LibraryView } from "./library-view";

vi.hoisted(() => {
  process.env.NEXT_PUBLIC_API_URL = "http://api.test";
});
vi.mock("next/navigation", () => ({
  useSearchParams: () => new URLSearchParams(),
  useRouter: () => ({ push: vi.fn(), replace: vi.fn() }),
}));

const me = { id: "u-me", email: "me@example.com", full_name: "Me Myself" };
const document = (id: string, filename: string) => ({
  id,
  filename,
  content_type: "application/pdf",
  kind: "pdf",
  folder: null,
  size_bytes: 2048,
  sha256: "x",
  page_count: 1,
  chunk_count: 3,
  status: "ready",
  progress: 100,
  stage: null,
  error: null,
  source_url: null,
  ocr_pages: null,
  notice: null,
  created_at: "2026-11-30T10:00:00Z",
  updated_at: "2026-11-30T10:00:00Z",
  owner: me,
  my_role: "owner",
  retryable: true,
});
const bulkDelete = (progress: { status: string; processed: number; succeeded: number }) => ({
  id: "b1",
  action: "delete",
  collection_id: null,
  total: 2000,
  denied: 0,
  error: null,
  created_at: "2026-11-30T10:00:00Z",
  finished_at: progress.status === "done" ? "2026-11-30T10:05:00Z" : null,
  ...progress,
});

/** A library of two documents (2,000 by the counts); a bulk delete whose progress the test moves on. */
function serveLibrary() {
  const bulk = { status: "running", processed: 1200, succeeded: 1200 };
  const api = fakeApi({
    "GET /api/v1/auth/me": () => json(me),
    "GET /api/v1/collections": () => json([]),
    "GET /api/v1/documents": ({ query }) => json(query.has("q") ? [] : [document("d1", "annual.pdf"), document("d2", "budget.pdf")]),
    "GET /api/v1/documents/counts": () => json({ total: 2000, queued: 0, processing: 0, ready: 2000, failed: 0 }),
    "POST /api/v1/documents/bulk": () => json(bulkDelete({ status: "queued", processed: 0, succeeded: 0 }), 202),
    "GET /api/v1/documents/bulk/b1": () => json(bulkDelete(bulk)),
  });
  return { ...api, bulk };
}

/** Everything the page asks for on opening has come (React warns of updates after a test's end). */
async function opened(): Promise<void> {
  await screen.findAllByTestId("document-row");
  await screen.findByTestId("count-all");
  await screen.findByText("No collections yet.");
}

const lastRead = (calls: ApiCall[], path: string) => calls.filter((call) => call.method === "GET" && call.path === path).at(-1);
const dateBounds = (call: ApiCall | undefined) => [call?.query.get("created_from") ?? null, call?.query.get("created_to") ?? null];

beforeAll(polyfillDialog);
let unsize: () => void;
beforeAll(() => {
  unsize = sizeElementsForVirtualLists();
});
afterAll(() => unsize());
afterEach(() => {
  vi.unstubAllGlobals();
  vi.useRealTimers();
  window.sessionStorage.clear();
});

describe("the library's date filter", () => {
  it("asks the list and the counts for a custom range, the To day included, and starts a fresh list", async () => {
    const user = userEvent.setup();
    const api = serveLibrary();
    renderWithQueries(<LibraryView />);
    await opened();
    await user.click(screen.getByRole("checkbox", { name: "Select annual.pdf" }));
    expect(screen.getByTestId("selected-count")).toHaveTextContent("1 document selected");

    await user.selectOptions(screen.getByLabelText("Added"), "custom");
    const range = screen.getByRole("group", { name: "Added between" });
    fireEvent.change(within(range).getByLabelText("From"), { target: { value: "2025-06-01" } });
    fireEvent.change(within(range).getByLabelText("To"), { target: { value: "2025-06-30" } });

    const expected = [new Date(2025, 5, 1).toISOString(), new Date(2025, 6, 1).toISOString()];
    await waitFor(() => expect(dateBounds(lastRead(api.calls, "/api/v1/documents"))).toEqual(expected));
    await waitFor(() => expect(dateBounds(lastRead(api.calls, "/api/v1/documents/counts"))).toEqual(expected));
    // Another list: the selection is gone.
    await screen.findAllByTestId("document-row");
    expect(screen.getByRole("checkbox", { name: "Select annual.pdf" })).not.toBeChecked();
    expect(screen.queryByTestId("selected-count")).toBeNull();

    // "Select all" then acts on what the range shows, not on the whole library.
    await user.click(screen.getByRole("checkbox", { name: "Select all 2000 matching documents" }));
    await user.click(within(screen.getByTestId("bulk-actions")).getByRole("button", { name: "Delete" }));
    await user.click(within(screen.getByRole("dialog", { name: "Delete the selected documents?" })).getByRole("button", { name: "Delete" }));
    await waitFor(() => expect(api.writes()).toHaveLength(1));
    expect(api.writes()[0]?.body).toMatchObject({
      action: "delete",
      filter: { created_from: expected[0], created_to: expected[1] },
    });
  });

  it("says so when From is after To", async () => {
    const user = userEvent.setup();
    serveLibrary();
    renderWithQueries(<LibraryView />);
    await opened();
    await user.selectOptions(screen.getByLabelText("Added"), "custom");
    fireEvent.change(screen.getByLabelText("From"), { target: { value: "2025-07-01" } });
    fireEvent.change(screen.getByLabelText("To"), { target: { value: "2025-06-01" } });
    expect(await screen.findByTestId("added-range-error")).toHaveTextContent("“From” is after “To”");
  });

  it("counts the last 7 days back from the moment they are picked, and Any time drops the bound", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(new Date(2026, 10, 30, 15, 30));
    const user = userEvent.setup();
    const api = serveLibrary();
    renderWithQueries(<LibraryView />);
    await opened();
    expect(dateBounds(lastRead(api.calls, "/api/v1/documents"))).toEqual([null, null]);

    await user.selectOptions(screen.getByLabelText("Added"), "Last 7 days");
    const since = new Date(2026, 10, 23, 15, 30).toISOString();
    await waitFor(() => expect(dateBounds(lastRead(api.calls, "/api/v1/documents"))).toEqual([since, null]));
    await waitFor(() => expect(dateBounds(lastRead(api.calls, "/api/v1/documents/counts"))).toEqual([since, null]));

    await user.selectOptions(screen.getByLabelText("Added"), "Any time");
    await waitFor(() => expect(dateBounds(lastRead(api.calls, "/api/v1/documents"))).toEqual([null, null]));
  });
});

describe("the library's filters", () => {
  it("Show every document clears the search too (the search field does not put it back)", async () => {
    const user = userEvent.setup();
    const api = serveLibrary();
    renderWithQueries(<LibraryView />);
    await opened();
    await user.type(screen.getByLabelText("Search"), "zzz");
    await user.click(await screen.findByRole("button", { name: "Show every document" }));
    await screen.findAllByTestId("document-row");
    expect(screen.getByLabelText("Search")).toHaveValue("");
    // Longer than the search's debounce: nothing brings "zzz" back.
    await new Promise((resolve) => setTimeout(resolve, SEARCH_DEBOUNCE_MS + 200));
    expect(lastRead(api.calls, "/api/v1/documents")?.query.get("q")).toBeNull();
    expect(screen.getAllByTestId("document-row")).toHaveLength(2);
  });
});

describe("a bulk action's progress", () => {
  it("picks up where it is after a reload, and shows the result when it is done", async () => {
    const user = userEvent.setup();
    const first = serveLibrary();
    const page = renderWithQueries(<LibraryView />);
    await opened();
    await user.click(screen.getByRole("checkbox", { name: "Select all 2000 matching documents" }));
    await user.click(within(screen.getByTestId("bulk-actions")).getByRole("button", { name: "Delete" }));
    await user.click(within(screen.getByRole("dialog", { name: "Delete the selected documents?" })).getByRole("button", { name: "Delete" }));
    expect(await screen.findByText(/Deleting… 1,200 of 2,000/)).toBeInTheDocument();
    expect(first.writes()).toHaveLength(1);

    // A reload: a new page, a new query cache, the same tab.
    page.unmount();
    vi.unstubAllGlobals();
    const second = serveLibrary();
    renderWithQueries(<LibraryView />);
    const progress = await screen.findByTestId("bulk-progress");
    await waitFor(() => expect(progress).toHaveTextContent("Deleting… 1,200 of 2,000"));
    expect(within(progress).getByRole("progressbar")).toBeInTheDocument();

    second.bulk.status = "done";
    second.bulk.processed = 2000;
    second.bulk.succeeded = 2000;
    await waitFor(() => expect(screen.getByTestId("bulk-progress")).toHaveAttribute("data-status", "done"), { timeout: 5000 });
    expect(screen.getByTestId("bulk-progress")).toHaveTextContent("2,000 documents deleted.");
    // Nothing was started again: the second page only followed the first one's action.
    expect(second.writes()).toEqual([]);

    // Dismissed, it is forgotten: the next reload shows no bar.
    await user.click(screen.getByRole("button", { name: "Dismiss" }));
    expect(screen.queryByTestId("bulk-progress")).toBeNull();
    expect(window.sessionStorage.length).toBe(0);
  });

  it("forgets an action the server no longer knows (another account's, or gone)", async () => {
    window.sessionStorage.setItem("docchat.bulk-action.u-me", "b-gone");
    const api = serveLibrary();
    renderWithQueries(<LibraryView />);
    await waitFor(() => expect(api.calls.some((call) => call.path === "/api/v1/documents/bulk/b-gone")).toBe(true));
    await waitFor(() => expect(window.sessionStorage.getItem("docchat.bulk-action.u-me")).toBeNull());
    await opened();
    expect(screen.queryByTestId("bulk-progress")).toBeNull();
  });
});
