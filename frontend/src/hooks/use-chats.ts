"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { Chat, ChatListItem, FeedbackBody } from "@/lib/api";
import { chatsApi, type ChatListQuery } from "@/lib/api/endpoints";
import { scopeFields, type ChatScope } from "@/lib/chat/scope";
import type { ScopedChatCreateBody, ScopedChatUpdateBody } from "@/lib/api/teams-contract";

export const CHATS_KEY = ["chats"] as const;
export const chatKey = (id: string) => ["chat", id] as const;

/** The active chats (the default list other screens read the titles from), or archived / matching ones. */
export function useChats(query: ChatListQuery = {}) {
  const filtered = Boolean(query.q) || Boolean(query.archived);
  return useQuery({
    queryKey: filtered ? [...CHATS_KEY, query] : CHATS_KEY,
    queryFn: () => chatsApi.list(query),
    placeholderData: filtered ? (previous) => previous : undefined,
  });
}

/** A conversation with its stored messages; always re-read when a chat is opened. */
export function useChatDetail(id: string | null) {
  return useQuery({
    queryKey: chatKey(id ?? ""),
    queryFn: () => chatsApi.get(id ?? ""),
    enabled: id !== null,
    refetchOnMount: "always",
    refetchOnWindowFocus: false,
    staleTime: Infinity,
  });
}

function replaceChat(chats: ChatListItem[] | undefined, updated: Chat): ChatListItem[] | undefined {
  return chats?.map((chat) => (chat.id === updated.id ? updated : chat));
}

export function useCreateChat() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: ScopedChatCreateBody) => chatsApi.create(body),
    onSuccess: (chat) => {
      queryClient.setQueryData<ChatListItem[]>(CHATS_KEY, (chats) => [chat, ...(chats ?? [])]);
    },
  });
}

export function useUpdateChat() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ id, ...body }: ScopedChatUpdateBody & { id: string }) => chatsApi.update(id, body),
    onSuccess: (chat, body) => {
      queryClient.setQueryData<ChatListItem[]>(CHATS_KEY, (chats) => replaceChat(chats, chat));
      // Pinning and archiving move the chat between lists and places: read them again.
      if (body.pinned !== undefined || body.archived !== undefined) void queryClient.invalidateQueries({ queryKey: CHATS_KEY });
    },
  });
}

export function useDeleteChat() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => chatsApi.remove(id),
    onSuccess: (_result, id) => {
      queryClient.setQueriesData<ChatListItem[]>({ queryKey: CHATS_KEY }, (chats) => chats?.filter((chat) => chat.id !== id));
      queryClient.removeQueries({ queryKey: chatKey(id) });
    },
  });
}

/** Rate an answer (1 / -1, with an optional comment), or clear the rating (null). */
export function useRateAnswer(chatId: string, messageId: string) {
  return useMutation({
    mutationFn: (body: FeedbackBody | null) =>
      body === null ? chatsApi.clearRating(chatId, messageId).then(() => null) : chatsApi.rate(chatId, messageId, body),
  });
}

export function useModelChoices() {
  return useQuery({ queryKey: ["models"], queryFn: chatsApi.models, staleTime: 5 * 60_000 });
}

/** Questions to start a chat with this scope, and whether anything in it is ready to ask about. */
export function useScopeSuggestions(scope: ChatScope) {
  const fields = scopeFields(scope);
  return useQuery({
    queryKey: ["suggested-questions", fields],
    queryFn: () => chatsApi.suggestedQuestions(fields),
    // Read again whenever an empty chat shows: documents become ready in the meantime, and
    // "no ready documents" from an earlier visit must not stand in for the answer.
    gcTime: 0,
  });
}
