import { DefaultChatTransport } from "ai";
import { api } from "@/lib/api";
import { apiErrorFromResponse } from "@/lib/api/errors";
import { chatsApi } from "@/lib/api/endpoints";
import type { ScopedMessageBody } from "@/lib/api/teams-contract";
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
 * Transport for useChat: POST /api/v1/chats/{id}/messages with `{content}` and the scope
 * (`collection_id`, or `document_ids`; neither: everything the user can read),
 * answered as a UI message stream. A question sent again with the id of the one it edits
 * (`sendMessage({text, messageId})`) goes as `replaces`; `regenerate({messageId})` posts to
 * the answer's /regenerate, which streams the same way. Requests go through the API client's authorised fetch,
 * so an expired access token is renewed (single flight) and the request retried once.
 */
export function createChatTransport(chatId: string): DefaultChatTransport<DocChatMessage> {
  return new DefaultChatTransport<DocChatMessage>({
    api: chatsApi.messagesUrl(chatId),
    prepareSendMessagesRequest: ({ messages, body, headers, trigger, messageId }) => {
      const scope = body as { document_ids?: unknown; collection_id?: unknown } | undefined;
      const token = api.tokens.getAccessToken();
      const requestHeaders = {
        ...Object.fromEntries(new Headers(headers).entries()),
        Accept: "text/event-stream",
        ...(token ? { Authorization: `Bearer ${token}` } : {}),
      };
      if (trigger === "regenerate-message" && messageId) {
        return { api: chatsApi.regenerateUrl(chatId, messageId), body: {}, headers: requestHeaders };
      }
      const message: ScopedMessageBody & { replaces?: string } = { content: lastUserText(messages) };
      if (messageId) message.replaces = messageId;
      if (typeof scope?.collection_id === "string" && scope.collection_id) message.collection_id = scope.collection_id;
      else if (Array.isArray(scope?.document_ids) && scope.document_ids.length > 0) message.document_ids = scope.document_ids.map(String);
      return { body: message, headers: requestHeaders };
    },
    fetch: async (input, init) => {
      const response = await api.authorizedFetch(urlOf(input), init ?? {});
      if (!response.ok) throw await apiErrorFromResponse(response);
      return response;
    },
  });
}
