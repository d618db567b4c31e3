"use client";

import { useState } from "react";
import { ErrorAlert } from "@/components/ui/alert";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { ProgressBar } from "@/components/ui/progress-bar";
import { errorMessage } from "@/lib/api";
import type { CollectionOut } from "@/lib/api/teams-contract";
import type { BulkAction, BulkActionBody } from "@/lib/library/api";
import { isBulkRunning, useBulkAction } from "@/hooks/use-library";

export type Selection = { all: boolean; ids: Set<string> };

const DOING: Record<BulkAction["action"], string> = {
  delete: "Deleting",
  reindex: "Queueing for reindexing",
  add_to_collection: "Adding to the collection",
};
const DONE: Record<BulkAction["action"], string> = {
  delete: "deleted",
  reindex: "queued for reindexing",
  add_to_collection: "added to the collection",
};

function documentsCount(count: number): string {
  return `${count.toLocaleString()} ${count === 1 ? "document" : "documents"}`;
}

/** What a bulk action did, or how far it has got, in words. */
export function bulkProgressText(action: BulkAction): string {
  const denied =
    action.denied > 0
      ? ` ${documentsCount(action.denied)} left alone: only their owner can ${action.action === "delete" ? "delete" : "reindex"} them.`
      : "";
  if (action.status === "failed") return `Stopped after ${action.processed.toLocaleString()} of ${action.total.toLocaleString()}: ${action.error ?? "an error"}`;
  if (action.status === "done") return `${documentsCount(action.succeeded)} ${DONE[action.action]}.${denied}`;
  return `${DOING[action.action]}… ${action.processed.toLocaleString()} of ${action.total.toLocaleString()}.${denied}`;
}

type BulkActionsBarProps = {
  selection: Selection;
  selectedCount: number;
  selectionBody: () => Pick<BulkActionBody, "filter" | "document_ids">;
  onDone: () => void;
  /** Delete and reindex are offered. */
  canChange: boolean;
  /** The collections the selection can be added to. */
  targets: CollectionOut[];
};

/** Delete, reindex or add to a collection what is selected, as a job whose progress shows here (after a reload too). */
export function BulkActionsBar({ selection, selectedCount, selectionBody, onDone, canChange, targets }: BulkActionsBarProps) {
  const { start, action, reset } = useBulkAction();
  const [confirmDelete, setConfirmDelete] = useState<number | null>(null);
  const [collectionId, setCollectionId] = useState("");
  const running = isBulkRunning(action);

  const run = (body: Pick<BulkActionBody, "action" | "collection_id">) =>
    start.mutateAsync({ ...selectionBody(), ...body }).then(onDone);

  if (selectedCount === 0 && !action && !start.error) return null;
  return (
    <div className="card space-y-2 p-3" data-testid="bulk-actions" aria-live="polite">
      {selectedCount > 0 ? (
        <div className="flex flex-wrap items-center gap-2">
          <span className="text-sm font-medium text-slate-900" data-testid="selected-count">
            {selection.all ? `All ${selectedCount.toLocaleString()} matching documents selected` : `${documentsCount(selectedCount)} selected`}
          </span>
          {canChange ? (
            <>
              <button type="button" className="btn-secondary" disabled={running} onClick={() => setConfirmDelete(selectedCount)}>
                Delete
              </button>
              <button type="button" className="btn-secondary" disabled={running} onClick={() => void run({ action: "reindex" })}>
                Reindex
              </button>
            </>
          ) : null}
          {targets.length > 0 ? (
            <span className="flex items-center gap-1">
              <select
                className="input"
                aria-label="Collection to add the selected documents to"
                value={collectionId}
                onChange={(event) => setCollectionId(event.target.value)}
              >
                <option value="">Add to collection…</option>
                {targets.map((collection) => (
                  <option key={collection.id} value={collection.id}>
                    {collection.name}
                  </option>
                ))}
              </select>
              <button
                type="button"
                className="btn-secondary"
                disabled={running || !collectionId}
                onClick={() => void run({ action: "add_to_collection", collection_id: collectionId })}
              >
                Add
              </button>
            </span>
          ) : null}
        </div>
      ) : null}
      {start.error ? <ErrorAlert>{errorMessage(start.error)}</ErrorAlert> : null}
      {action ? (
        <div className="space-y-1" data-testid="bulk-progress" data-status={action.status}>
          {running ? (
            <ProgressBar value={action.total ? (100 * action.processed) / action.total : 0} label="Bulk action progress" />
          ) : null}
          <p className={`text-sm ${action.status === "failed" ? "text-red-800" : "text-slate-700"}`}>
            {bulkProgressText(action)}{" "}
            {!running ? (
              <button type="button" className="underline" onClick={reset}>
                Dismiss
              </button>
            ) : null}
          </p>
        </div>
      ) : null}
      <ConfirmDialog
        subject={confirmDelete}
        title="Delete the selected documents?"
        confirmLabel="Delete"
        onConfirm={() => run({ action: "delete" })}
        onClose={() => setConfirmDelete(null)}
      >
        {(count) => (
          <p>
            {documentsCount(count)} and their passages will be removed, for you and for everyone they are shared with.
            Documents you do not own are left alone.
          </p>
        )}
      </ConfirmDialog>
    </div>
  );
}
