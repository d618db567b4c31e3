"use client";

import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { isDocumentBusy } from "@/lib/format";
import { libraryApi, type BulkAction, type BulkActionBody, type LibraryFilters } from "@/lib/library/api";
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

export function isBulkRunning(action: BulkAction | undefined): boolean {
  return action?.status === "queued" || action?.status === "running";
}

/** Starts a bulk action and follows its progress until it is done; then the library is refreshed. */
export function useBulkAction() {
  const queryClient = useQueryClient();
  const start = useMutation({ mutationFn: (body: BulkActionBody) => libraryApi.startBulk(body) });
  const id = start.data?.id ?? null;
  const progress = useQuery({
    queryKey: ["bulk-actions", id],
    queryFn: async () => {
      const action = await libraryApi.bulk(id as string);
      if (!isBulkRunning(action)) void queryClient.invalidateQueries({ queryKey: DOCUMENTS_KEY });
      return action;
    },
    enabled: id !== null,
    refetchInterval: (query) => (isBulkRunning(query.state.data ?? start.data) ? BULK_POLL_MS : false),
  });
  return { start, action: progress.data ?? start.data, reset: start.reset };
}
