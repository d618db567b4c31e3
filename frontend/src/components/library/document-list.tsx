"use client";

import { useRef, useState, type ReactNode } from "react";
import { ErrorAlert } from "@/components/ui/alert";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { PageLoading } from "@/components/ui/spinner";
import { errorMessage } from "@/lib/api";
import type { SharedDocument } from "@/lib/api/teams-contract";
import { isDocumentBusy, pluralize } from "@/lib/format";
import { useDeleteDocument, useReindexDocument } from "@/hooks/use-documents";
import { DocumentRow } from "./document-row";

type DocumentListProps = {
  heading: string;
  documents: { data: SharedDocument[] | undefined; isPending: boolean; isError: boolean; error: unknown; refetch: () => unknown };
  empty: ReactNode;
  /** Given in a collection the user may edit: each row can be taken out of it. */
  onRemoveFromCollection?: (document: SharedDocument) => Promise<unknown>;
  /** Extra controls next to the heading ("Add documents"). */
  actions?: ReactNode;
};

/** A list of documents with delete (owner), retry (owner) and, in a collection, remove. */
export function DocumentList({ heading, documents, empty, onRemoveFromCollection, actions }: DocumentListProps) {
  const deleteDocument = useDeleteDocument();
  const reindexDocument = useReindexDocument();
  const [pendingDelete, setPendingDelete] = useState<SharedDocument | null>(null);
  const [pendingRemove, setPendingRemove] = useState<SharedDocument | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const headingRef = useRef<HTMLHeadingElement>(null);

  const list = documents.data ?? [];
  const busyCount = list.filter(isDocumentBusy).length;

  const retry = (document: SharedDocument) => {
    setActionError(null);
    reindexDocument.mutate(document.id, { onError: (error) => setActionError(errorMessage(error)) });
  };

  return (
    <section aria-labelledby="documents-heading" className="space-y-2">
      {actionError ? <ErrorAlert>{actionError}</ErrorAlert> : null}
      <div className="flex flex-wrap items-baseline justify-between gap-2">
        <h2 id="documents-heading" ref={headingRef} tabIndex={-1} className="text-base font-semibold text-slate-900">
          {heading}
        </h2>
        <div className="flex items-center gap-3">
          <p className="text-xs text-slate-600" aria-live="polite">
            {documents.data ? pluralize(list.length, "document") : ""}
            {busyCount > 0 ? ` · ${busyCount} processing` : ""}
          </p>
          {actions}
        </div>
      </div>
      {documents.isPending ? (
        <PageLoading label="Loading documents…" />
      ) : documents.isError ? (
        <ErrorAlert>
          {errorMessage(documents.error)}{" "}
          <button type="button" className="underline" onClick={() => void documents.refetch()}>
            Try again
          </button>
        </ErrorAlert>
      ) : list.length === 0 ? (
        empty
      ) : (
        <ul className="card overflow-hidden" aria-label="Documents">
          {list.map((document) => (
            <DocumentRow
              key={document.id}
              document={document}
              onDelete={setPendingDelete}
              onRetry={retry}
              retrying={reindexDocument.isPending && reindexDocument.variables === document.id}
              onRemoveFromCollection={onRemoveFromCollection ? setPendingRemove : undefined}
            />
          ))}
        </ul>
      )}

      <ConfirmDialog
        subject={pendingDelete}
        title="Delete this document?"
        confirmLabel="Delete"
        onConfirm={(document) => deleteDocument.mutateAsync(document.id)}
        onClose={() => setPendingDelete(null)}
        fallbackFocus={headingRef}
      >
        {(document) => (
          <p>
            <strong className="break-all">{document.filename}</strong> and its passages will be removed, for you and for everyone
            it is shared with. Answers already given keep their text but will no longer cite it.
          </p>
        )}
      </ConfirmDialog>
      {onRemoveFromCollection ? (
        <ConfirmDialog
          subject={pendingRemove}
          title="Remove from this collection?"
          confirmLabel="Remove"
          onConfirm={onRemoveFromCollection}
          onClose={() => setPendingRemove(null)}
          fallbackFocus={headingRef}
        >
          {(document) => (
            <p>
              <strong className="break-all">{document.filename}</strong> leaves this collection; people it is shared with through
              the collection lose access to it. The document itself stays with its owner.
            </p>
          )}
        </ConfirmDialog>
      ) : null}
    </section>
  );
}
