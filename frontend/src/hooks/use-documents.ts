"use client";

import { useMutation, useQuery, useQueryClient, type InfiniteData } from "@tanstack/react-query";
import { documentsApi } from "@/lib/api/endpoints";
import { readableDocumentsApi } from "@/lib/api/teams-client";
import type { SharedDocument } from "@/lib/api/teams-contract";
import { isDocumentBusy } from "@/lib/format";

export const DOCUMENTS_KEY = ["documents"] as const;
/** How often the list is polled while any document is queued or processing. */
export const DOCUMENT_POLL_MS = 1500;

export function documentsPollInterval(documents: SharedDocument[] | undefined): number | false {
  return documents?.some(isDocumentBusy) ? DOCUMENT_POLL_MS : false;
}

export function useDocuments() {
  return useQuery({
    queryKey: DOCUMENTS_KEY,
    queryFn: readableDocumentsApi.list,
    refetchInterval: (query) => documentsPollInterval(query.state.data),
  });
}

export function useDeleteDocument() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => documentsApi.remove(id),
    onSuccess: (_result, id) => {
      queryClient.setQueryData<SharedDocument[]>(DOCUMENTS_KEY, (documents) => documents?.filter((doc) => doc.id !== id));
      // The library's loaded pages too, at once: the row (and the button that asked) is gone
      // before the confirmation closes, so the focus moves to the list rather than the page.
      queryClient.setQueriesData<InfiniteData<{ documents: SharedDocument[] }>>(
        { queryKey: [...DOCUMENTS_KEY, "library"] },
        (data) =>
          data && { ...data, pages: data.pages.map((page) => ({ ...page, documents: page.documents.filter((doc) => doc.id !== id) })) },
      );
      void queryClient.invalidateQueries({ queryKey: DOCUMENTS_KEY });
    },
  });
}

export function useReindexDocument() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => documentsApi.reindex(id),
    onSuccess: (updated) => {
      queryClient.setQueryData<SharedDocument[]>(DOCUMENTS_KEY, (documents) =>
        documents?.map((doc) => (doc.id === updated.id ? { ...doc, ...updated } : doc)),
      );
    },
  });
}

export function useImportUrl() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (url: string) => documentsApi.importUrl(url),
    onSuccess: (imported: SharedDocument) => {
      queryClient.setQueryData<SharedDocument[]>(DOCUMENTS_KEY, (documents) =>
        documents ? [imported, ...documents.filter((doc) => doc.id !== imported.id)] : [imported],
      );
      void queryClient.invalidateQueries({ queryKey: DOCUMENTS_KEY });
    },
  });
}
