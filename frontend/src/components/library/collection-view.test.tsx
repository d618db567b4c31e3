import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { CollectionRole } from "@/lib/api/teams-contract";
import { fakeApi, json, noContent, polyfillDialog, renderWithQueries, sizeElementsForVirtualLists } from "@/test/fake-api";
import { CollectionView } from "./collection-view";

vi.hoisted(() => {
  process.env.NEXT_PUBLIC_API_URL = "http://api.test";
});

const me = { id: "u-me", email: "me@example.com", full_name: "Me Myself" };
const ann = { id: "u-ann", email: "ann@example.com", full_name: "Ann Archer" };
const document = (id: string, filename: string, owner = ann, myRole: CollectionRole = "viewer") => ({
  id,
  filename,
  content_type: "application/pdf",
  size_bytes: 2048,
  sha256: "x",
  page_count: 1,
  chunk_count: 3,
  status: "ready",
  progress: 100,
  stage: null,
  error: null,
  ocr_pages: null,
  notice: null,
  created_at: "2026-11-30T10:00:00Z",
  updated_at: "2026-11-30T10:00:00Z",
  owner,
  my_role: myRole,
});

type Role = CollectionRole;
const collectionOf = (id: string, name: string, role: Role, count: number) => ({
  id,
  name,
  description: "Signed ones",
  owner: role === "owner" ? me : ann,
  my_role: role,
  document_count: count,
  created_at: "2026-11-30T10:00:00Z",
  updated_at: "2026-11-30T10:00:00Z",
});

/**
 * One collection "Contracts" owned by `owner`, where the user has `role`; it holds annual.pdf (Ann's).
 * `others` are more collections the user can see. The collection's page lists it through `GET /documents?collection_id=`.
 */
function serveCollection(role: Role, others: ReturnType<typeof collectionOf>[] = []) {
  let inCollection = [document("d-ann", "annual.pdf")];
  const readable = [document("d-ann", "annual.pdf"), document("d-mine", "mine.pdf", me, "owner")];
  return fakeApi({
    "GET /api/v1/collections": () => json([collectionOf("c1", "Contracts", role, inCollection.length), ...others]),
    "GET /api/v1/collections/c1/documents": () => json(inCollection),
    "GET /api/v1/documents": ({ query }) => json(query.get("collection_id") === "c1" ? inCollection : readable),
    "GET /api/v1/documents/counts": ({ query }) => {
      const count = query.get("collection_id") === "c1" ? inCollection.length : readable.length;
      return json({ total: count, queued: 0, processing: 0, ready: count, failed: 0 });
    },
    "POST /api/v1/collections/c1/documents": ({ body }) => {
      const ids = (body as { document_ids: string[] }).document_ids;
      inCollection = [...inCollection, ...ids.map((id) => document(id, "mine.pdf", me, "owner"))];
      return noContent();
    },
    "DELETE /api/v1/collections/c1/documents": ({ body }) => {
      const ids = new Set((body as { document_ids: string[] }).document_ids);
      inCollection = inCollection.filter((item) => !ids.has(item.id));
      return noContent();
    },
    "DELETE /api/v1/collections/c1": () => noContent(),
    "POST /api/v1/documents/bulk": ({ body }) =>
      json({ ...bulkAction, action: (body as { action: string }).action }, 202),
    "GET /api/v1/documents/bulk/b1": () => json({ ...bulkAction, status: "done", processed: 1, succeeded: 1, finished_at: "2026-11-30T10:01:00Z" }),
  });
}

const bulkAction = {
  id: "b1",
  action: "delete",
  status: "queued",
  collection_id: null,
  total: 1,
  processed: 0,
  succeeded: 0,
  denied: 0,
  error: null,
  created_at: "2026-11-30T10:00:00Z",
  finished_at: null,
};

beforeAll(polyfillDialog);
let unsize: () => void;
beforeAll(() => {
  unsize = sizeElementsForVirtualLists();
});
afterAll(() => unsize());
afterEach(() => vi.unstubAllGlobals());

describe("CollectionView", () => {
  it("gives a viewer the documents and the chat, and nothing to change", async () => {
    serveCollection("viewer");
    renderWithQueries(<CollectionView collectionId="c1" onGone={() => {}} />);
    expect(await screen.findByRole("heading", { name: "Contracts" })).toBeInTheDocument();
    expect(screen.getByText(/owned by Ann Archer/)).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Ask about it" })).toHaveAttribute("href", expect.stringMatching(/^\/chat\/?\?collection=c1$/)); // next.config adds the slash
    const row = await screen.findByTestId("document-row");
    expect(row).toHaveTextContent("Shared by Ann Archer");
    expect(within(row).queryByRole("button")).toBeNull();
    for (const name of ["Share", "Add documents", "Choose files", "Rename", "Transfer"]) {
      expect(screen.queryByRole("button", { name })).toBeNull();
    }
    // Nothing to do with a selection either: no checkboxes.
    expect(screen.queryByRole("checkbox")).toBeNull();
  });

  it("lists the collection through the scalable library list: its filters, counts and collection_id", async () => {
    const user = userEvent.setup();
    const api = serveCollection("viewer");
    renderWithQueries(<CollectionView collectionId="c1" onGone={() => {}} />);
    await screen.findByTestId("document-row");
    expect(screen.getByRole("heading", { name: "Documents in this collection" })).toBeInTheDocument();
    expect(screen.getByTestId("library-total")).toHaveTextContent("1 document");
    const reads = (path: string) => api.calls.filter((call) => call.method === "GET" && call.path === path);
    // One page at a time, never the whole collection.
    expect(reads("/api/v1/documents").map((call) => [call.query.get("collection_id"), call.query.get("limit")])).toEqual([["c1", "100"]]);
    expect(reads("/api/v1/documents/counts").map((call) => call.query.get("collection_id"))).toEqual(["c1"]);
    expect(reads("/api/v1/collections/c1/documents")).toEqual([]);

    await user.selectOptions(screen.getByLabelText("Type"), "pdf");
    await vi.waitFor(() => expect(reads("/api/v1/documents")).toHaveLength(2));
    expect(reads("/api/v1/documents")[1]?.query.get("collection_id")).toBe("c1");
    expect(reads("/api/v1/documents")[1]?.query.get("kind")).toBe("pdf");
  });

  it("offers a viewer who edits another collection only to add the selection there, nothing destructive", async () => {
    const user = userEvent.setup();
    const api = serveCollection("viewer", [collectionOf("c2", "Mine", "owner", 0)]);
    renderWithQueries(<CollectionView collectionId="c1" onGone={() => {}} />);
    await screen.findByTestId("document-row");
    await user.click(await screen.findByRole("checkbox", { name: "Select annual.pdf" }));
    const bar = screen.getByTestId("bulk-actions");
    expect(within(bar).queryByRole("button", { name: "Delete" })).toBeNull();
    expect(within(bar).queryByRole("button", { name: "Reindex" })).toBeNull();
    const target = within(bar).getByRole("combobox", { name: "Collection to add the selected documents to" });
    // The collection shown is not offered as a target.
    expect(within(target).getAllByRole("option").map((option) => option.textContent)).toEqual(["Add to collection…", "Mine"]);
    await user.selectOptions(target, "c2");
    await user.click(within(bar).getByRole("button", { name: "Add" }));
    await vi.waitFor(() => expect(api.writes()).toHaveLength(1));
    expect(api.writes()[0]?.body).toEqual({ document_ids: ["d-ann"], action: "add_to_collection", collection_id: "c2" });
  });

  it("lets an editor add documents they can read and take one out, but not share", async () => {
    const user = userEvent.setup();
    const api = serveCollection("editor");
    renderWithQueries(<CollectionView collectionId="c1" onGone={() => {}} />);
    await screen.findByTestId("document-row");
    expect(screen.getByRole("button", { name: "Choose files" })).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Share" })).toBeNull();

    await user.click(screen.getByRole("button", { name: "Add documents" }));
    const dialog = screen.getByRole("dialog", { name: "Add documents" });
    // What is already in the collection is not offered again.
    const offered = await within(dialog).findAllByRole("checkbox");
    expect(offered).toHaveLength(1);
    await user.click(within(dialog).getByRole("checkbox", { name: /mine\.pdf/ }));
    await user.click(within(dialog).getByRole("button", { name: "Add 1 document" }));
    await vi.waitFor(() => expect(screen.getAllByTestId("document-row")).toHaveLength(2));

    await user.click(screen.getAllByRole("button", { name: /^Remove ?annual\.pdf from the collection$/ })[0]!);
    await user.click(within(screen.getByRole("dialog", { name: "Remove from this collection?" })).getByRole("button", { name: "Remove" }));
    await vi.waitFor(() => expect(screen.getAllByTestId("document-row")).toHaveLength(1));

    expect(api.writes().map(({ method, path, body }) => [method, path, body])).toEqual([
      ["POST", "/api/v1/collections/c1/documents", { document_ids: ["d-mine"] }],
      ["DELETE", "/api/v1/collections/c1/documents", { document_ids: ["d-ann"] }],
    ]);
  });

  it("scopes an editor's select-all bulk delete to the collection", async () => {
    const user = userEvent.setup();
    const api = serveCollection("editor");
    renderWithQueries(<CollectionView collectionId="c1" onGone={() => {}} />);
    await screen.findByTestId("document-row");
    await user.click(await screen.findByRole("checkbox", { name: "Select all 1 matching document" }));
    const bar = screen.getByTestId("bulk-actions");
    await user.click(within(bar).getByRole("button", { name: "Delete" }));
    const collectionReads = () => api.calls.filter((call) => call.method === "GET" && call.path === "/api/v1/collections").length;
    const readsBefore = collectionReads();
    await user.click(within(screen.getByRole("dialog", { name: "Delete the selected documents?" })).getByRole("button", { name: "Delete" }));
    await vi.waitFor(() => expect(api.writes()).toHaveLength(1));
    expect(api.writes()[0]).toMatchObject({
      path: "/api/v1/documents/bulk",
      body: { action: "delete", filter: expect.objectContaining({ collection_id: "c1", status: [], kind: [], q: null }) },
    });
    await vi.waitFor(() => expect(screen.getByTestId("bulk-progress")).toHaveAttribute("data-status", "done"));
    // The collection's count of documents (in its header and the sidebar) is asked for again.
    await vi.waitFor(() => expect(collectionReads()).toBeGreaterThan(readsBefore));
  });

  it("lets the owner share, rename, transfer and delete it; deleting leaves the collection page", async () => {
    const user = userEvent.setup();
    const api = serveCollection("owner");
    const onGone = vi.fn();
    renderWithQueries(<CollectionView collectionId="c1" onGone={onGone} />);
    await screen.findByRole("heading", { name: "Contracts" });
    for (const name of ["Share", "Rename", "Transfer"]) expect(screen.getByRole("button", { name })).toBeInTheDocument();

    await user.click(screen.getByRole("button", { name: /^Delete ?collection Contracts$/ }));
    const dialog = screen.getByRole("dialog", { name: "Delete this collection?" });
    expect(dialog).toHaveTextContent("The documents in it stay with their owners.");
    await user.click(within(dialog).getByRole("button", { name: "Delete collection" }));
    await vi.waitFor(() => expect(onGone).toHaveBeenCalled());
    expect(api.writes()).toEqual([expect.objectContaining({ method: "DELETE", path: "/api/v1/collections/c1" })]);
  });

  it("says so when the collection is gone or no longer shared", async () => {
    serveCollection("viewer");
    renderWithQueries(<CollectionView collectionId="c-revoked" onGone={() => {}} />);
    expect(await screen.findByRole("alert")).toHaveTextContent("This collection does not exist or is no longer shared with you.");
  });
});
