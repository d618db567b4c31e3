"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { Chat } from "@/lib/api";
import { chatsApi } from "@/lib/api/endpoints";
import type { ScopedChatCreateBody, ScopedChatUpdateBody } from "@/lib/api/teams-contract";

export const CHATS_KEY = ["chats"] as const;
export const chatKey = (id: string) => ["chat", id] as const;

export function useChats() {
  return useQuery({ queryKey: CHATS_KEY, queryFn: chatsApi.list });
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

function replaceChat(chats: Chat[] | undefined, updated: Chat): Chat[] | undefined {
  return chats?.map((chat) => (chat.id === updated.id ? updated : chat));
}

export function useCreateChat() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: ScopedChatCreateBody) => chatsApi.create(body),
    onSuccess: (chat) => {
      queryClient.setQueryData<Chat[]>(CHATS_KEY, (chats) => [chat, ...(chats ?? [])]);
    },
  });
}

export function useUpdateChat() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ id, ...body }: ScopedChatUpdateBody & { id: string }) => chatsApi.update(id, body),
    onSuccess: (chat) => {
      queryClient.setQueryData<Chat[]>(CHATS_KEY, (chats) => replaceChat(chats, chat));
    },
  });
}

export function useDeleteChat() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => chatsApi.remove(id),
    onSuccess: (_result, id) => {
      queryClient.setQueryData<Chat[]>(CHATS_KEY, (chats) => chats?.filter((chat) => chat.id !== id));
      queryClient.removeQueries({ queryKey: chatKey(id) });
    },
  });
}
