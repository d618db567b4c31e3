"use client";

import { useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useReducer, useState } from "react";
import type { SharedDocument } from "@/lib/api/teams-contract";
import { folderOf } from "@/lib/library/api";
import { createUploadQueue, uploadDocument, uploadErrorMessage, uploadsReducer } from "@/lib/upload";
import { refreshCollection } from "./use-collections";
import { DOCUMENTS_KEY } from "./use-documents";

/** Files sent at the same time; the rest wait their turn. */
const PARALLEL_UPLOADS = 2;

let lastUploadKey = 0;
const newUploadKey = () => `upload-${(lastUploadKey += 1)}`;

/**
 * A queue of uploads with per-file progress; finished documents join the library list, and
 * the collection that was open when they were added (`collectionId`), if any.
 */
export function useUploads(collectionId: string | null = null) {
  const queryClient = useQueryClient();
  const [items, dispatch] = useReducer(uploadsReducer, []);
  const [queue] = useState(() =>
    createUploadQueue({
      concurrency: PARALLEL_UPLOADS,
      upload: uploadDocument,
      dispatch,
      describeError: uploadErrorMessage,
      onUploaded: (documents, collectionId) => {
        queryClient.setQueryData<SharedDocument[]>(DOCUMENTS_KEY, (current) => {
          const known = new Set(current?.map((doc) => doc.id));
          return [...documents.filter((doc) => !known.has(doc.id)), ...(current ?? [])];
        });
        refreshCollection(queryClient, collectionId);
      },
    }),
  );

  useEffect(() => () => queue.cancelAll(), [queue]);

  const addFiles = useCallback(
    (files: File[]) => queue.add(files.map((file) => ({ key: newUploadKey(), file, collectionId, folder: folderOf(file) }))),
    [queue, collectionId],
  );

  /** Files refused before sending (wrong type): shown as failed rows. */
  const addRejected = useCallback((rejected: { file: File; message: string }[]) => {
    for (const { file, message } of rejected) {
      const key = newUploadKey();
      dispatch({ type: "added", items: [{ key, name: file.name, size: file.size }] });
      dispatch({ type: "failed", key, message });
    }
  }, []);

  const cancel = useCallback((key: string) => queue.cancel(key), [queue]);
  const dismiss = useCallback((key: string) => dispatch({ type: "dismissed", key }), []);
  const clearFinished = useCallback(() => dispatch({ type: "finishedCleared" }), []);

  return { items, addFiles, addRejected, cancel, dismiss, clearFinished };
}
