"use client";

import { useVirtualizer } from "@tanstack/react-virtual";
import { useEffect, useRef, useState, type ReactNode } from "react";
import { ErrorAlert } from "@/components/ui/alert";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { PageLoading } from "@/components/ui/spinner";
import { errorMessage } from "@/lib/api";
import type { SharedDocument } from "@/lib/api/teams-contract";
import { pluralize } from "@/lib/format";
import { filterBody, type LibraryFilters, type StatusCounts } from "@/lib/library/api";
import { useCollections } from "@/hooks/use-collections";
import { useDeleteDocument, useReindexDocument } from "@/hooks/use-documents";
import { useLibrary } from "@/hooks/use-library";
import { BulkActionsBar, type Selection } from "./bulk-actions-bar";
import { DocumentRow } from "./document-row";

/** A row's height before it is measured (rows with a progress bar or an error are taller). */
const ESTIMATED_ROW_PX = 76;
/** Rows rendered beyond the visible ones, for smooth scrolling. */
const OVERSCAN_ROWS = 8;

/** The list's filters leave nothing: one click shows every document again. */
export function NoMatch({ onClear }: { onClear: () => void }) {
  return (
    <div className="card p-6 text-center text-sm text-slate-700" data-testid="library-no-match">
      No documents match these filters.{" "}
      <button type="button" className="underline" onClick={onClear}>
        Show every document
      </button>
    </div>
  );
}

type LibraryListProps = {
  filters: LibraryFilters;
  counts: StatusCounts | undefined;
  onFolder: (folder: string) => void;
  empty: ReactNode;
  heading?: string;
  /** Extra controls next to the heading ("Add documents"). */
  actions?: ReactNode;
  /** Bulk delete and reindex are offered (not on the page of a collection the user only reads). */
  canChange?: boolean;
  /** In a collection the user may edit: each row can be taken out of it. */
  onRemoveFromCollection?: (document: SharedDocument) => Promise<unknown>;
};

/**
 * The library, virtualised: only the rows in view are in the page, and the next page of
 * documents loads as the list scrolls to its end. Rows can be selected one by one, or every
 * document matching the filters at once for a bulk action.
 */
export function LibraryList({
  filters,
  counts,
  onFolder,
  empty,
  heading = "All documents",
  actions,
  canChange = true,
  onRemoveFromCollection,
}: LibraryListProps) {
  const library = useLibrary(filters);
  const collections = useCollections();
  // Collections the selection can be added to (the one shown is not one of them).
  const targets = (collections.data ?? []).filter(
    (collection) => collection.my_role !== "viewer" && collection.id !== filters.collectionId,
  );
  const selectable = canChange || targets.length > 0;
  const deleteDocument = useDeleteDocument();
  const reindexDocument = useReindexDocument();
  const [pendingDelete, setPendingDelete] = useState<SharedDocument | null>(null);
  const [pendingRemove, setPendingRemove] = useState<SharedDocument | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const [selection, setSelection] = useState<Selection>({ all: false, ids: new Set() });
  const headingRef = useRef<HTMLHeadingElement>(null);
  const scrollRef = useRef<HTMLDivElement>(null);

  const documents = library.data?.pages.flatMap((page) => page.documents) ?? [];
  const total = counts ? (filters.status ? counts[filters.status] : counts.total) : null;
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = library;

  // eslint-disable-next-line react-hooks/incompatible-library -- the virtualizer's values are read during render, never memoised
  const virtualizer = useVirtualizer({
    count: documents.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ESTIMATED_ROW_PX,
    overscan: OVERSCAN_ROWS,
    getItemKey: (index) => documents[index]?.id ?? index,
  });
  const items = virtualizer.getVirtualItems();
  const lastIndex = items.at(-1)?.index ?? -1;

  useEffect(() => {
    if (lastIndex >= documents.length - OVERSCAN_ROWS && hasNextPage && !isFetchingNextPage) void fetchNextPage();
  }, [lastIndex, documents.length, hasNextPage, isFetchingNextPage, fetchNextPage]);

  const select = (document: SharedDocument, selected: boolean) =>
    setSelection((current) => {
      const ids = new Set(current.ids);
      if (selected) ids.add(document.id);
      else ids.delete(document.id);
      return { all: false, ids };
    });

  const retry = (document: SharedDocument) => {
    setActionError(null);
    reindexDocument.mutate(document.id, { onError: (error) => setActionError(errorMessage(error)) });
  };

  return (
    <section aria-labelledby="documents-heading" className="space-y-2">
      {actionError ? <ErrorAlert>{actionError}</ErrorAlert> : null}
      <div className="flex flex-wrap items-center justify-between gap-2">
        <div className="flex items-center gap-3">
          {selectable ? (
            <input
              type="checkbox"
              className="h-4 w-4"
              checked={selection.all}
              disabled={!total}
              onChange={(event) => setSelection({ all: event.target.checked, ids: new Set() })}
              aria-label={total ? `Select all ${pluralize(total, "matching document")}` : "Select all"}
              data-testid="select-all"
            />
          ) : null}
          <h2 id="documents-heading" ref={headingRef} tabIndex={-1} className="text-base font-semibold text-slate-900">
            {heading}
          </h2>
        </div>
        <div className="flex items-center gap-3">
          <p className="text-xs text-slate-600" aria-live="polite" data-testid="library-total">
            {total !== null ? `${total.toLocaleString()} ${total === 1 ? "document" : "documents"}` : ""}
          </p>
          {actions}
        </div>
      </div>
      <BulkActionsBar
        selection={selection}
        selectedCount={selection.all ? (total ?? 0) : selection.ids.size}
        selectionBody={() => (selection.all ? { filter: filterBody(filters) } : { document_ids: [...selection.ids] })}
        onDone={() => setSelection({ all: false, ids: new Set() })}
        canChange={canChange}
        targets={targets}
      />
      {library.isPending ? (
        <PageLoading label="Loading documents…" />
      ) : library.isError ? (
        <ErrorAlert>
          {errorMessage(library.error)}{" "}
          <button type="button" className="underline" onClick={() => void library.refetch()}>
            Try again
          </button>
        </ErrorAlert>
      ) : documents.length === 0 ? (
        empty
      ) : (
        <div ref={scrollRef} className="card h-[70vh] overflow-auto" data-testid="library-scroll">
          <ul aria-label="Documents" className="relative w-full" style={{ height: virtualizer.getTotalSize() }}>
            {items.map((item) => {
              const document = documents[item.index];
              if (!document) return null;
              return (
                <DocumentRow
                  key={item.key}
                  index={item.index}
                  measureRef={virtualizer.measureElement}
                  style={{ position: "absolute", top: 0, left: 0, width: "100%", transform: `translateY(${item.start}px)` }}
                  document={document}
                  onDelete={setPendingDelete}
                  onRetry={retry}
                  retrying={reindexDocument.isPending && reindexDocument.variables === document.id}
                  onRemoveFromCollection={onRemoveFromCollection ? setPendingRemove : undefined}
                  selected={selection.all || selection.ids.has(document.id)}
                  onSelect={selectable ? select : undefined}
                  onFolder={onFolder}
                />
              );
            })}
          </ul>
          {isFetchingNextPage ? <p className="p-3 text-center text-xs text-slate-600">Loading more…</p> : null}
        </div>
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
