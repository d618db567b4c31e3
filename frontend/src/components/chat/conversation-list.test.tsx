import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { fakeApi, json, noContent, polyfillDialog, renderWithQueries, type ApiCall } from "@/test/fake-api";
import { ConversationList } from "./conversation-list";

// Under a loaded machine (CI shares two cores) a round trip through the fake API can take a while.
const SLOW = { timeout: 5000 };

vi.hoisted(() => {
  process.env.NEXT_PUBLIC_API_URL = "http://api.test";
});

const LONG_TITLE = "What does the quillomere harbour guide say about the…";
const chat = (id: string, title: string, extra: object = {}) => ({
  id,
  title,
  document_ids: null,
  collection_id: null,
  model: null,
  pinned_at: null,
  archived_at: null,
  created_at: "2026-11-30T10:00:00Z",
  updated_at: "2026-11-30T10:00:00Z",
  snippet: null,
  ...extra,
});

function serveChats() {
  return fakeApi({
    "GET /api/v1/chats": (call: ApiCall) => {
      const q = call.query.get("q");
      if (call.query.get("archived") === "true") return json([chat("c3", "Old budget", { archived_at: "2026-11-01T00:00:00Z" })]);
      if (q)
        return json([
          chat("c2", "What is the capital of Peru?", {
            snippet: { message_id: "m1", role: "assistant", text: "…the <b>ferry</b> leaves at dawn…", highlights: [[8, 13]] },
          }),
        ]);
      return json([chat("c1", LONG_TITLE, { pinned_at: "2026-11-30T11:00:00Z" }), chat("c2", "What is the capital of Peru?")]);
    },
    "PATCH /api/v1/chats/([^/]+)": (call, match) => json(chat(match[1] ?? "", "x", call.body as object)),
    "DELETE /api/v1/chats/([^/]+)": () => noContent(),
  });
}

const renderList = () =>
  renderWithQueries(<ConversationList activeId={null} onNewChat={() => {}} creating={false} onDeleted={() => {}} />);

beforeAll(polyfillDialog);
afterEach(() => vi.unstubAllGlobals());

describe("ConversationList", () => {
  it("gives each chat one Tab stop, its full title, and its actions in a menu off the tab order", async () => {
    serveChats();
    const user = userEvent.setup();
    renderList();
    const link = await screen.findByRole("link", { name: (name) => /^Pinned:\s*/.test(name) && name.endsWith(LONG_TITLE) });
    expect(link).toHaveAttribute("title", LONG_TITLE);
    expect(screen.queryByRole("button", { name: /^Rename/ })).toBeNull();

    await user.click(screen.getByRole("button", { name: "New chat" }));
    await user.tab(); // the search box
    await user.tab(); // archived
    await user.tab();
    expect(link).toHaveFocus();
    await user.tab();
    expect(screen.getByRole("link", { name: "What is the capital of Peru?" })).toHaveFocus();

    await user.keyboard("{ArrowRight}");
    const menu = await screen.findByRole("menu", { name: "Actions for What is the capital of Peru?" });
    const items = within(menu).getAllByRole("menuitem");
    expect(items.map((item) => item.textContent)).toEqual(["Pin", "Rename", "Archive", "Delete"]);
    expect(items[0]).toHaveFocus();
    await user.keyboard("{ArrowDown}");
    expect(items[1]).toHaveFocus();
    await user.keyboard("{Escape}");
    expect(screen.queryByRole("menu")).toBeNull();
    await waitFor(() => expect(screen.getByRole("link", { name: "What is the capital of Peru?" })).toHaveFocus(), SLOW);
  });

  it("pins, archives, and quotes the title in the delete dialog", async () => {
    const api = serveChats();
    const user = userEvent.setup();
    renderList();
    await user.click(await screen.findByRole("button", { name: "Actions for What is the capital of Peru?" }));
    await user.click(screen.getByRole("menuitem", { name: "Pin" }));
    await waitFor(() => expect(api.writes()).toHaveLength(1), SLOW);
    expect(api.writes()[0]).toMatchObject({ method: "PATCH", path: "/api/v1/chats/c2", body: { pinned: true } });

    await user.click(screen.getByRole("button", { name: "Actions for What is the capital of Peru?" }));
    await user.click(screen.getByRole("menuitem", { name: "Delete" }));
    const dialog = await screen.findByRole("dialog");
    expect(dialog).toHaveTextContent(
      "The conversation “What is the capital of Peru?” and all its messages will be deleted. Your documents are not affected.",
    );
    await user.click(within(dialog).getByRole("button", { name: "Cancel" }));
    expect(screen.getByRole("link", { name: "What is the capital of Peru?" })).toHaveFocus();
    await user.click(screen.getByRole("button", { name: "Actions for What is the capital of Peru?" }));
    await user.click(screen.getByRole("menuitem", { name: "Delete" }));
    await user.click(within(await screen.findByRole("dialog")).getByRole("button", { name: "Delete" }));
    await waitFor(() => expect(api.writes().at(-1)).toMatchObject({ method: "DELETE", path: "/api/v1/chats/c2" }), SLOW);

    await user.click(screen.getByRole("button", { name: "Archived conversations" }));
    expect(await screen.findByRole("link", { name: "Old budget" })).toBeInTheDocument();
    expect(api.calls.at(-1)?.query.get("archived")).toBe("true");
  });

  it("searches and marks the matched words as text, never as markup", async () => {
    const api = serveChats();
    const user = userEvent.setup();
    renderList();
    await user.type(await screen.findByRole("searchbox", { name: "Search conversations" }), "ferry");
    const snippet = await screen.findByTestId("chat-snippet");
    expect(api.calls.some((call) => call.query.get("q") === "ferry")).toBe(true);
    expect(snippet).toHaveTextContent("…the <b>ferry</b> leaves at dawn…");
    expect(snippet.querySelector("b")).toBeNull();
    expect(within(snippet).getByText("ferry", { selector: "mark" })).toBeInTheDocument();
  });
});
