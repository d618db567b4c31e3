"use client";

import { useMutation, useQuery, useQueryClient, type QueryClient } from "@tanstack/react-query";
import { collectionsApi } from "@/lib/api/teams-client";
import type { CollectionOut, CollectionUpdateBody, MemberPutBody } from "@/lib/api/teams-contract";
import { DOCUMENTS_KEY, documentsPollInterval } from "./use-documents";

export const COLLECTIONS_KEY = ["collections"] as const;
export const collectionDocumentsKey = (id: string) => ["collection", id, "documents"] as const;
export const collectionMembersKey = (id: string) => ["collection", id, "members"] as const;

/** Collections the user owns or that are shared with them (directly or through a group). */
export function useCollections() {
  return useQuery({ queryKey: COLLECTIONS_KEY, queryFn: collectionsApi.list });
}

export function useCollectionDocuments(id: string | null) {
  return useQuery({
    queryKey: collectionDocumentsKey(id ?? ""),
    queryFn: () => collectionsApi.documents(id ?? ""),
    enabled: id !== null,
    refetchInterval: (query) => documentsPollInterval(query.state.data),
  });
}

export function useCollectionMembers(id: string | null) {
  return useQuery({
    queryKey: collectionMembersKey(id ?? ""),
    queryFn: () => collectionsApi.members(id ?? ""),
    enabled: id !== null,
  });
}

/** What a change to a collection's content may have changed: its list, its count, the library. */
export function refreshCollection(queryClient: QueryClient, id: string | null): void {
  void queryClient.invalidateQueries({ queryKey: COLLECTIONS_KEY });
  void queryClient.invalidateQueries({ queryKey: DOCUMENTS_KEY });
  if (id) void queryClient.invalidateQueries({ queryKey: collectionDocumentsKey(id) });
}

export function useCreateCollection() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: collectionsApi.create,
    onSuccess: (created) => {
      queryClient.setQueryData<CollectionOut[]>(COLLECTIONS_KEY, (current) => [...(current ?? []), created]);
      void queryClient.invalidateQueries({ queryKey: COLLECTIONS_KEY });
    },
  });
}

export function useUpdateCollection() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ id, ...body }: CollectionUpdateBody & { id: string }) => collectionsApi.update(id, body),
    onSuccess: (updated) => {
      queryClient.setQueryData<CollectionOut[]>(COLLECTIONS_KEY, (current) =>
        current?.map((item) => (item.id === updated.id ? updated : item)),
      );
      void queryClient.invalidateQueries({ queryKey: COLLECTIONS_KEY });
    },
  });
}

export function useDeleteCollection() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => collectionsApi.remove(id),
    onSuccess: (_result, id) => {
      queryClient.setQueryData<CollectionOut[]>(COLLECTIONS_KEY, (current) => current?.filter((item) => item.id !== id));
      queryClient.removeQueries({ queryKey: ["collection", id] });
      refreshCollection(queryClient, null);
    },
  });
}

export function useCollectionDocumentChanges(id: string) {
  const queryClient = useQueryClient();
  const add = useMutation({
    mutationFn: (documentIds: string[]) => collectionsApi.addDocuments(id, documentIds),
    onSuccess: () => refreshCollection(queryClient, id),
  });
  const remove = useMutation({
    mutationFn: (documentIds: string[]) => collectionsApi.removeDocuments(id, documentIds),
    onSuccess: () => refreshCollection(queryClient, id),
  });
  return { add, remove };
}

export function useMemberChanges(id: string) {
  const queryClient = useQueryClient();
  const refresh = () => {
    void queryClient.invalidateQueries({ queryKey: collectionMembersKey(id) });
    void queryClient.invalidateQueries({ queryKey: COLLECTIONS_KEY });
  };
  const share = useMutation({ mutationFn: (body: MemberPutBody) => collectionsApi.share(id, body), onSuccess: refresh });
  const unshare = useMutation({ mutationFn: (memberId: string) => collectionsApi.unshare(id, memberId), onSuccess: refresh });
  return { share, unshare };
}
