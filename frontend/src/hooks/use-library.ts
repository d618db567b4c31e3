"use client";

import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback, useState, useSyncExternalStore } from "react";
import { ApiError } from "@/lib/api";
import { authApi } from "@/lib/api/endpoints";
import { isDocumentBusy } from "@/lib/format";
import { clearedFilters, libraryApi, type BulkAction, type BulkActionBody, type LibraryFilters } from "@/lib/library/api";
import { COLLECTIONS_KEY } from "./use-collections";
import { DOCUMENT_POLL_MS, DOCUMENTS_KEY } from "./use-documents";

/** Under DOCUMENTS_KEY: whatever refreshes the documents (upload, delete, reindex) refreshes the library too. */
export const libraryKey = (filters: LibraryFilters) => [...DOCUMENTS_KEY, "library", filters] as const;
export const countsKey = (filters: LibraryFilters) => [...DOCUMENTS_KEY, "counts", { ...filters, status: null, sort: null, order: null }] as const;
/** How often a running bulk action's progress is asked for. */
export const BULK_POLL_MS = 1000;

/** The library one page at a time (keyset cursors), polled while a loaded document is being processed. */
export function useLibrary(filters: LibraryFilters) {
  return useInfiniteQuery({
    queryKey: libraryKey(filters),
    queryFn: ({ pageParam }) => libraryApi.page(filters, pageParam),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.nextCursor,
    refetchInterval: (query) =>
      query.state.data?.pages.some((page) => page.documents.some(isDocumentBusy)) ? DOCUMENT_POLL_MS : false,
  });
}

export function useLibraryCounts(filters: LibraryFilters) {
  return useQuery({ queryKey: countsKey(filters), queryFn: () => libraryApi.counts(filters) });
}

/**
 * The filters of a library list (the whole library, or a collection's) with the counts for them:
 * `showFolder` narrows to a folder, `clear` goes back to everything (in the same collection).
 */
export function useLibraryFilters(initial: LibraryFilters) {
  const [filters, setFilters] = useState<LibraryFilters>(initial);
  const counts = useLibraryCounts(filters);
  const showFolder = useCallback((folder: string) => setFilters((current) => ({ ...current, folder })), []);
  const clear = () => setFilters(clearedFilters(filters));
  return { filters, setFilters, counts, showFolder, clear };
}

export function isBulkRunning(action: BulkAction | undefined): boolean {
  return action?.status === "queued" || action?.status === "running";
}

/*
 * The user's latest bulk action, kept in the tab's sessionStorage (per user) until it is
 * dismissed: after a reload, or in another list, its progress picks up where it is.
 */
const bulkStorageKey = (userId: string) => `docchat.bulk-action.${userId}`;
const bulkListeners = new Set<() => void>();

function rememberedBulkId(userId: string | null): string | null {
  if (!userId || typeof window === "undefined") return null;
  return window.sessionStorage.getItem(bulkStorageKey(userId));
}

function rememberBulkId(userId: string | null, id: string | null): void {
  if (!userId) return;
  if (id) window.sessionStorage.setItem(bulkStorageKey(userId), id);
  else window.sessionStorage.removeItem(bulkStorageKey(userId));
  bulkListeners.forEach((listener) => listener());
}

function subscribeBulk(listener: () => void): () => void {
  bulkListeners.add(listener);
  return () => bulkListeners.delete(listener);
}

/**
 * Starts a bulk action and follows its progress until it is done; then the library and the
 * collections are refreshed.
 * The action is remembered for the tab: after a reload the progress picks up where it is.
 */
export function useBulkAction() {
  const queryClient = useQueryClient();
  // The signed-in user (already loaded by the auth provider).
  const userId = useQuery({ queryKey: ["me"], queryFn: authApi.me, staleTime: 5 * 60_000 }).data?.id ?? null;
  const rememberedId = useSyncExternalStore(
    subscribeBulk,
    () => rememberedBulkId(userId),
    () => null,
  );
  const start = useMutation({
    mutationFn: (body: BulkActionBody) => libraryApi.startBulk(body),
    onSuccess: (started) => rememberBulkId(userId, started.id),
  });
  const id = start.data?.id ?? rememberedId;
  const progress = useQuery({
    queryKey: ["bulk-actions", id],
    queryFn: async () => {
      try {
        const action = await libraryApi.bulk(id as string);
        if (!isBulkRunning(action)) {
          // The documents, and the collections' counts of them.
          void queryClient.invalidateQueries({ queryKey: DOCUMENTS_KEY });
          void queryClient.invalidateQueries({ queryKey: COLLECTIONS_KEY });
        }
        return action;
      } catch (error) {
        // Gone, or another account's: nothing to follow.
        if (error instanceof ApiError && error.status === 404) rememberBulkId(userId, null);
        throw error;
      }
    },
    enabled: id !== null,
    // A finished action does not change: asked for once.
    staleTime: (query) => (query.state.data && !isBulkRunning(query.state.data) ? Infinity : 0),
    refetchInterval: (query) => (isBulkRunning(query.state.data ?? start.data) ? BULK_POLL_MS : false),
  });
  const reset = () => {
    start.reset();
    rememberBulkId(userId, null);
  };
  return { start, action: progress.data ?? start.data, reset };
}
