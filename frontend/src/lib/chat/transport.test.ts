import { afterEach, describe, expect, it, vi } from "vitest";
import { tokenStore } from "@/lib/api";
import type { DocChatMessage } from "./messages";
import { createChatTransport } from "./transport";

/** The answer stream exactly as docs/api.md describes it. */
function sseAnswer(): Response {
  const citation = {
    n: 1,
    chunk_id: "c1",
    document_id: "d1",
    filename: "crazyones.pdf",
    content_type: "application/pdf",
    page_start: 1,
    page_end: 1,
    snippet: "Here's to the crazy ones.",
    char_start: 0,
    char_end: 25,
    score: 0.9,
  };
  const events = [
    { type: "start", messageId: "assistant-1" },
    { type: "data-sources", data: { sources: [citation] } },
    { type: "start-step" },
    { type: "text-start", id: "text-1" },
    { type: "text-delta", id: "text-1", delta: "The crazy ones " },
    { type: "text-delta", id: "text-1", delta: "change things [1]." },
    { type: "text-end", id: "text-1" },
    { type: "finish-step" },
    {
      type: "data-citations",
      data: { citations: [citation], message_id: "assistant-1", user_message_id: "user-1", extractive: false, partial: false },
    },
    { type: "finish" },
  ];
  const body = events.map((event) => `data: ${JSON.stringify(event)}\n\n`).join("") + "data: [DONE]\n\n";
  return new Response(body, {
    status: 200,
    headers: { "Content-Type": "text/event-stream", "x-vercel-ai-ui-message-stream": "v1" },
  });
}

const question: DocChatMessage = { id: "local-1", role: "user", parts: [{ type: "text", text: "What about the crazy ones?" }] };

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("chat transport", () => {
  it("posts {content, document_ids} with the bearer token and reads the UI message stream", async () => {
    tokenStore.setTokens({ access_token: "access-1", refresh_token: "refresh-1" });
    const fetchMock = vi.fn(async (_url: string, _init?: RequestInit) => sseAnswer());
    vi.stubGlobal("fetch", fetchMock);

    const stream = await createChatTransport("chat-1").sendMessages({
      chatId: "chat-1",
      messages: [question],
      trigger: "submit-message",
      messageId: undefined,
      abortSignal: undefined,
      body: { document_ids: ["d1"] },
    });

    const [url, init] = fetchMock.mock.calls[0]!;
    expect(url).toBe("/api/v1/chats/chat-1/messages");
    expect(JSON.parse(String(init?.body))).toEqual({ content: "What about the crazy ones?", document_ids: ["d1"] });
    expect(new Headers(init?.headers).get("Authorization")).toBe("Bearer access-1");

    const chunks: { type: string }[] = [];
    const reader = stream.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
    }
    expect(chunks.map((chunk) => chunk.type)).toEqual([
      "start",
      "data-sources",
      "start-step",
      "text-start",
      "text-delta",
      "text-delta",
      "text-end",
      "finish-step",
      "data-citations",
      "finish",
    ]);
  });

  it("omits document_ids when the chat is not restricted", async () => {
    const fetchMock = vi.fn(async (_url: string, _init?: RequestInit) => sseAnswer());
    vi.stubGlobal("fetch", fetchMock);
    await createChatTransport("chat-2").sendMessages({
      chatId: "chat-2",
      messages: [question],
      trigger: "submit-message",
      messageId: undefined,
      abortSignal: undefined,
      body: { document_ids: [] },
    });
    expect(JSON.parse(String(fetchMock.mock.calls[0]![1]?.body))).toEqual({ content: "What about the crazy ones?" });
  });

  it("sends the chat's collection as its scope (and no document list with it)", async () => {
    const fetchMock = vi.fn(async (_url: string, _init?: RequestInit) => sseAnswer());
    vi.stubGlobal("fetch", fetchMock);
    await createChatTransport("chat-3").sendMessages({
      chatId: "chat-3",
      messages: [question],
      trigger: "submit-message",
      messageId: undefined,
      abortSignal: undefined,
      body: { collection_id: "c1", document_ids: null },
    });
    expect(JSON.parse(String(fetchMock.mock.calls[0]![1]?.body))).toEqual({ content: "What about the crazy ones?", collection_id: "c1" });
  });

  it("surfaces the API's error message when the request is refused", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn(async () =>
        Response.json({ error: { code: "not_found", message: "Chat not found.", request_id: "r" } }, { status: 404 }),
      ),
    );
    await expect(
      createChatTransport("missing").sendMessages({
        chatId: "missing",
        messages: [question],
        trigger: "submit-message",
        messageId: undefined,
        abortSignal: undefined,
      }),
    ).rejects.toThrow("Chat not found.");
  });
});
