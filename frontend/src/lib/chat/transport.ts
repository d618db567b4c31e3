import { DefaultChatTransport } from "ai";
import { api } from "@/lib/api";
import { apiErrorFromResponse } from "@/lib/api/errors";
import { chatsApi } from "@/lib/api/endpoints";
import type { MessageBody } from "@/lib/api/types";
import type { DocChatMessage } from "./messages";

function urlOf(input: RequestInfo | URL): string {
  if (typeof input === "string") return input;
  if (input instanceof URL) return input.href;
  return input.url;
}

/** The text the user typed in the last message (the API takes one new message, not history). */
export function lastUserText(messages: DocChatMessage[]): string {
  const last = [...messages].reverse().find((message) => message.role === "user");
  if (!last) return "";
  return last.parts.map((part) => (part.type === "text" ? part.text : "")).join("");
}

/**
 * Transport for useChat: POST /api/v1/chats/{id}/messages with `{content, document_ids}`,
 * answered as a UI message stream. Requests go through the API client's authorised fetch,
 * so an expired access token is renewed (single flight) and the request retried once.
 */
export function createChatTransport(chatId: string): DefaultChatTransport<DocChatMessage> {
  return new DefaultChatTransport<DocChatMessage>({
    api: chatsApi.messagesUrl(chatId),
    prepareSendMessagesRequest: ({ messages, body, headers }) => {
      const documentIds = (body as { document_ids?: unknown } | undefined)?.document_ids;
      const token = api.tokens.getAccessToken();
      const message: MessageBody = { content: lastUserText(messages) };
      if (Array.isArray(documentIds) && documentIds.length > 0) message.document_ids = documentIds.map(String);
      return {
        body: message,
        headers: {
          ...Object.fromEntries(new Headers(headers).entries()),
          Accept: "text/event-stream",
          ...(token ? { Authorization: `Bearer ${token}` } : {}),
        },
      };
    },
    fetch: async (input, init) => {
      const response = await api.authorizedFetch(urlOf(input), init ?? {});
      if (!response.ok) throw await apiErrorFromResponse(response);
      return response;
    },
  });
}
