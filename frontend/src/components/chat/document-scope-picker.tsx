"use client";

import { useId, useState } from "react";
import { useDocuments } from "@/hooks/use-documents";

type DocumentScopePickerProps = {
  selected: string[];
  onChange: (documentIds: string[]) => void;
  disabled?: boolean;
};

/** Optional restriction of a chat to some ready documents (empty = all documents). */
export function DocumentScopePicker({ selected, onChange, disabled = false }: DocumentScopePickerProps) {
  const documents = useDocuments();
  const [open, setOpen] = useState(false);
  const panelId = useId();
  const ready = (documents.data ?? []).filter((doc) => doc.status === "ready");
  const selectedSet = new Set(selected);
  const summary =
    selected.length === 0 ? "All documents" : selected.length === 1 ? "1 document" : `${selected.length} documents`;

  const toggle = (id: string) => {
    const next = selectedSet.has(id) ? selected.filter((value) => value !== id) : [...selected, id];
    onChange(next);
  };

  return (
    <div className="relative">
      <button
        type="button"
        className="btn-ghost border border-slate-300"
        aria-expanded={open}
        aria-controls={panelId}
        onClick={() => setOpen((value) => !value)}
        disabled={disabled}
      >
        <span className="text-slate-600">Search in:</span> {summary}
      </button>
      {open ? (
        <fieldset id={panelId} className="card absolute bottom-full left-0 z-20 mb-2 max-h-72 w-[min(22rem,calc(100vw-2rem))] overflow-y-auto p-3">
          <legend className="sr-only">Documents this chat may use</legend>
          <p className="mb-2 text-xs text-slate-600">Leave all unchecked to search every ready document.</p>
          {ready.length === 0 ? (
            <p className="text-sm text-slate-700">No ready documents yet.</p>
          ) : (
            <ul className="space-y-1">
              {ready.map((doc) => (
                <li key={doc.id}>
                  <label className="flex cursor-pointer items-center gap-2 rounded px-1 py-1 text-sm hover:bg-slate-100">
                    <input type="checkbox" checked={selectedSet.has(doc.id)} onChange={() => toggle(doc.id)} className="h-4 w-4" />
                    <span className="min-w-0 truncate">{doc.filename}</span>
                  </label>
                </li>
              ))}
            </ul>
          )}
          <div className="mt-2 flex justify-between">
            <button type="button" className="btn-ghost" onClick={() => onChange([])} disabled={selected.length === 0}>
              Use all documents
            </button>
            <button type="button" className="btn-ghost" onClick={() => setOpen(false)}>
              Done
            </button>
          </div>
        </fieldset>
      ) : null}
    </div>
  );
}
