import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { ChatDetail, StoredMessage } from "@/lib/api";
import { fakeApi, json, renderWithQueries, type ApiCall } from "@/test/fake-api";
import { ChatView, POLL_INTERVAL_MS } from "./chat-view";

vi.hoisted(() => {
  process.env.NEXT_PUBLIC_API_URL = "http://api.test";
});

// Polls a second apart, on a machine that may be loaded.
const POLLS = { timeout: 8000 };

const citation = {
  n: 1,
  chunk_id: 1,
  document_id: "d1",
  filename: "harbour-guide.md",
  content_type: "text/markdown",
  page: 1,
  page_start: 1,
  page_end: 1,
  snippet: "The ferries leave at dawn.",
  char_start: 0,
  char_end: 26,
  score: 1,
  source_deleted: false,
};

function message(overrides: Partial<StoredMessage>): StoredMessage {
  return {
    id: "a1",
    role: "assistant",
    content: "",
    status: "done",
    partial: false,
    extractive: false,
    citations: [],
    version: 1,
    version_count: 1,
    version_ids: [overrides.id ?? "a1"],
    created_at: "2026-11-30T10:00:00Z",
    ...overrides,
  };
}

function chatWith(messages: StoredMessage[], extra: Partial<ChatDetail> = {}): ChatDetail {
  return {
    id: "c1",
    title: "When do the ferries leave?",
    document_ids: null,
    collection_id: null,
    model: null,
    pinned_at: null,
    archived_at: null,
    created_at: "2026-11-30T10:00:00Z",
    updated_at: "2026-11-30T10:00:00Z",
    messages,
    ...extra,
  };
}

/** What the chat's pickers and the conversation list read, besides the routes a test gives. */
function serve(routes: Parameters<typeof fakeApi>[0]) {
  return fakeApi({
    "GET /api/v1/chats": () => json([]),
    "GET /api/v1/models": () => json({ default: { id: null, label: "Quotes" }, models: [] }),
    "GET /api/v1/collections": () => json([]),
    "GET /api/v1/documents": () => json([]),
    ...routes,
  });
}

// jsdom lays nothing out: following the answer as it grows scrolls nowhere.
beforeAll(() => {
  Element.prototype.scrollIntoView ??= () => undefined;
});
afterEach(() => vi.unstubAllGlobals());

describe("ChatView", () => {
  it("reads an answer still being written (after a reload) every second until it is done", async () => {
    const question = message({ id: "q1", role: "user", content: "When do the ferries leave?" });
    const reads: string[] = [];
    const api = serve({
      "GET /api/v1/chats/c1/messages/a1": () => {
        reads.push(new Date().toISOString());
        return json(
          reads.length === 1
            ? message({ status: "streaming", content: "The ferries leave" })
            : message({ content: "The ferries leave at dawn [1].", citations: [citation] }),
        );
      },
    });
    renderWithQueries(<ChatView chat={chatWith([question, message({ status: "streaming", content: "The ferries" })])} />);

    const answer = screen.getByTestId("assistant-message");
    expect(within(answer).getByTestId("still-writing")).toHaveTextContent("Still being written…");
    expect(answer).toHaveTextContent("The ferries");
    // The server is writing it: the composer offers Stop, not Send.
    expect(screen.getByRole("button", { name: "Stop" })).toBeVisible();

    // The first read: more text, still being written.
    await waitFor(() => expect(answer).toHaveTextContent("The ferries leave"), POLLS);
    expect(within(answer).getByTestId("still-writing")).toBeVisible();
    // The next: done, with its sources; the polling stops.
    await waitFor(() => expect(within(answer).queryByTestId("still-writing")).toBeNull(), POLLS);
    expect(answer).toHaveTextContent("The ferries leave at dawn");
    expect(answer).toHaveAttribute("data-status", "done");
    expect(within(answer).getByRole("button", { name: /\[1\] harbour-guide\.md, page 1/ })).toBeVisible();
    expect(reads).toHaveLength(2);
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS * 1.5));
    expect(reads).toHaveLength(2);
    expect(api.calls.filter((call) => call.path.startsWith("/api/v1/chats/c1/messages/")).map((call) => call.method)).toEqual(["GET", "GET"]);
  });

  it("offers a new, empty chat the questions of its scope, and asks the one selected", async () => {
    const asked: ApiCall[] = [];
    const api = serve({
      "GET /api/v1/suggested-questions": () => json({ questions: ["What does the document say about Ferries?"], document_ids: ["d1"] }),
      "POST /api/v1/chats/c1/messages": (call) => {
        asked.push(call);
        return new Response("", { status: 503 });
      },
    });
    const user = userEvent.setup();
    renderWithQueries(<ChatView chat={chatWith([], { title: "", collection_id: "k1" })} />);

    expect(screen.getByRole("heading", { level: 2, name: "What would you like to know?" })).toBeVisible();
    const suggestion = await screen.findByRole("button", { name: "What does the document say about Ferries?" }, POLLS);
    const suggestionsCall = api.calls.find((call) => call.path === "/api/v1/suggested-questions");
    expect(suggestionsCall?.query.get("collection_id")).toBe("k1");
    await user.click(suggestion);
    await waitFor(() => expect(asked).toHaveLength(1), POLLS);
    expect(asked[0]!.body).toEqual({ content: "What does the document say about Ferries?", collection_id: "k1" });
  });
});
