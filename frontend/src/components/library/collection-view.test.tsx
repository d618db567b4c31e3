import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { CollectionRole } from "@/lib/api/teams-contract";
import { fakeApi, json, noContent, polyfillDialog, renderWithQueries } from "@/test/fake-api";
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

/** One collection "Contracts" owned by `owner`, where the user has `role`; it holds annual.pdf (Ann's). */
function serveCollection(role: CollectionRole) {
  let inCollection = [document("d-ann", "annual.pdf")];
  return fakeApi({
    "GET /api/v1/collections": () =>
      json([
        {
          id: "c1",
          name: "Contracts",
          description: "Signed ones",
          owner: role === "owner" ? me : ann,
          my_role: role,
          document_count: inCollection.length,
          created_at: "2026-11-30T10:00:00Z",
          updated_at: "2026-11-30T10:00:00Z",
        },
      ]),
    "GET /api/v1/collections/c1/documents": () => json(inCollection),
    "GET /api/v1/documents": () => json([document("d-ann", "annual.pdf"), document("d-mine", "mine.pdf", me, "owner")]),
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
  });
}

beforeAll(polyfillDialog);
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
