"use client";

import { useState } from "react";
import { SharedByBadge } from "@/components/sharing/role-badge";
import { ErrorAlert } from "@/components/ui/alert";
import { Modal } from "@/components/ui/modal";
import { TextField } from "@/components/ui/text-field";
import { errorMessage } from "@/lib/api";
import { pluralize } from "@/lib/format";
import { useCollectionDocuments } from "@/hooks/use-collections";
import { useDocuments } from "@/hooks/use-documents";

type AddDocumentsFormProps = {
  collectionId: string;
  onAdd: (documentIds: string[]) => Promise<unknown>;
  onClose: () => void;
};

function AddDocumentsForm({ collectionId, onAdd, onClose }: AddDocumentsFormProps) {
  const documents = useDocuments();
  const collectionDocuments = useCollectionDocuments(collectionId);
  const inCollection = new Set((collectionDocuments.data ?? []).map((document) => document.id));
  const [filter, setFilter] = useState("");
  const [chosen, setChosen] = useState<Set<string>>(new Set());
  const [state, setState] = useState<{ busy: boolean; error: string | null }>({ busy: false, error: null });
  const needle = filter.trim().toLowerCase();
  const candidates = (documents.data ?? []).filter(
    (document) => !inCollection.has(document.id) && (!needle || document.filename.toLowerCase().includes(needle)),
  );

  const toggle = (id: string) =>
    setChosen((current) => {
      const next = new Set(current);
      if (!next.delete(id)) next.add(id);
      return next;
    });

  const add = async () => {
    setState({ busy: true, error: null });
    try {
      await onAdd([...chosen]);
    } catch (error) {
      setState({ busy: false, error: errorMessage(error) });
      return;
    }
    onClose();
  };

  return (
    <div className="space-y-3">
      <TextField id="add-documents-filter" label="Filter by name" autoComplete="off" value={filter} onChange={(event) => setFilter(event.target.value)} />
      {documents.isError ? <ErrorAlert>{errorMessage(documents.error)}</ErrorAlert> : null}
      <fieldset className="max-h-72 overflow-y-auto rounded-md border border-slate-200 p-2">
        <legend className="sr-only">Documents to add</legend>
        {documents.isPending || collectionDocuments.isPending ? (
          <p className="p-1 text-sm text-slate-600">Loading documents…</p>
        ) : candidates.length === 0 ? (
          <p className="p-1 text-sm text-slate-700">No other documents to add.</p>
        ) : (
          <ul className="space-y-1">
            {candidates.map((document) => (
              <li key={document.id}>
                <label className="flex cursor-pointer items-center gap-2 rounded px-1 py-1 text-sm hover:bg-slate-100">
                  <input type="checkbox" className="h-4 w-4" checked={chosen.has(document.id)} onChange={() => toggle(document.id)} />
                  <span className="min-w-0 flex-1 truncate">{document.filename}</span>
                  <SharedByBadge owner={document.owner} role={document.my_role} />
                </label>
              </li>
            ))}
          </ul>
        )}
      </fieldset>
      {state.error ? <ErrorAlert>{state.error}</ErrorAlert> : null}
      <div className="flex justify-end gap-2">
        <button type="button" className="btn-secondary" onClick={onClose} disabled={state.busy}>
          Cancel
        </button>
        <button type="button" className="btn-primary" onClick={() => void add()} disabled={state.busy || chosen.size === 0}>
          {state.busy ? "Adding…" : chosen.size === 0 ? "Add" : `Add ${pluralize(chosen.size, "document")}`}
        </button>
      </div>
    </div>
  );
}

type AddDocumentsDialogProps = AddDocumentsFormProps & { open: boolean };

/** Picks documents the user can read (theirs or shared with them) to put in a collection. */
export function AddDocumentsDialog({ open, ...form }: AddDocumentsDialogProps) {
  return (
    <Modal open={open} title="Add documents" description="Documents stay with their owners; the collection lists them." onClose={form.onClose} size="lg">
      <AddDocumentsForm {...form} />
    </Modal>
  );
}
