"use client";

import { useId, useRef, useState, type KeyboardEvent } from "react";
import { SharedByBadge } from "@/components/sharing/role-badge";
import { ALL_DOCUMENTS, scopeSummary, type ChatScope } from "@/lib/chat/scope";
import { useCollections } from "@/hooks/use-collections";
import { useDocuments } from "@/hooks/use-documents";

type ScopePickerProps = {
  scope: ChatScope;
  onChange: (scope: ChatScope) => void;
  disabled?: boolean;
};

/**
 * What a chat searches: all the documents the user can read, one collection, or chosen
 * documents. Done or Escape closes the choices and returns to the button.
 */
export function ScopePicker({ scope, onChange, disabled = false }: ScopePickerProps) {
  const documents = useDocuments();
  const collections = useCollections();
  const [open, setOpen] = useState(false);
  const buttonRef = useRef<HTMLButtonElement>(null);
  const panelId = useId();
  const radioName = useId();
  const ready = (documents.data ?? []).filter((doc) => doc.status === "ready");
  const collectionList = collections.data ?? [];
  const chosen = scope.kind === "documents" ? scope.documentIds : [];
  const chosenSet = new Set(chosen);
  const firstCollection = collectionList[0];

  const toggle = (id: string) => {
    const next = chosenSet.has(id) ? chosen.filter((value) => value !== id) : [...chosen, id];
    onChange({ kind: "documents", documentIds: next });
  };

  const close = () => {
    setOpen(false);
    buttonRef.current?.focus();
  };
  // Escape closes the picker only: handled, it no longer closes the source panel beside it.
  const onKeyDown = (event: KeyboardEvent) => {
    if (event.key !== "Escape" || !open) return;
    event.preventDefault();
    event.stopPropagation();
    close();
  };

  return (
    <div className="relative" onKeyDown={onKeyDown}>
      <button
        ref={buttonRef}
        type="button"
        className="btn-ghost border border-slate-300"
        aria-expanded={open}
        aria-controls={panelId}
        onClick={() => setOpen((value) => !value)}
        disabled={disabled}
        data-testid="scope-button"
      >
        <span className="text-slate-600">Search in:</span> {scopeSummary(scope, collectionList)}
      </button>
      {open ? (
        <fieldset id={panelId} className="card absolute bottom-full left-0 z-20 mb-2 max-h-96 w-[min(24rem,calc(100vw-2rem))] overflow-y-auto p-3">
          <legend className="sr-only">What this chat searches</legend>
          <div className="space-y-2 text-sm">
            <label className="flex items-center gap-2">
              <input type="radio" name={radioName} checked={scope.kind === "all"} onChange={() => onChange(ALL_DOCUMENTS)} />
              All documents I can read
            </label>
            <div>
              <label className="flex items-center gap-2">
                <input
                  type="radio"
                  name={radioName}
                  checked={scope.kind === "collection"}
                  disabled={!firstCollection}
                  onChange={() => firstCollection && onChange({ kind: "collection", collectionId: firstCollection.id })}
                />
                A collection
                {collectionList.length === 0 ? <span className="text-xs text-slate-600">(you have none yet)</span> : null}
              </label>
              {scope.kind === "collection" ? (
                <div className="ml-6 mt-1">
                  <label htmlFor={`${panelId}-collection`} className="sr-only">
                    Collection
                  </label>
                  <select
                    id={`${panelId}-collection`}
                    className="input py-1"
                    value={scope.collectionId}
                    onChange={(event) => onChange({ kind: "collection", collectionId: event.target.value })}
                  >
                    {collectionList.some((collection) => collection.id === scope.collectionId) ? null : (
                      <option value={scope.collectionId}>A collection no longer available</option>
                    )}
                    {collectionList.map((collection) => (
                      <option key={collection.id} value={collection.id}>
                        {collection.name}
                      </option>
                    ))}
                  </select>
                </div>
              ) : null}
            </div>
            <div>
              <label className="flex items-center gap-2">
                <input
                  type="radio"
                  name={radioName}
                  checked={scope.kind === "documents"}
                  onChange={() => onChange({ kind: "documents", documentIds: [] })}
                />
                Chosen documents
              </label>
              {scope.kind === "documents" ? (
                ready.length === 0 ? (
                  <p className="ml-6 mt-1 text-slate-700">No ready documents yet.</p>
                ) : (
                  <ul className="ml-4 mt-1 space-y-1" aria-label="Documents">
                    {ready.map((doc) => (
                      <li key={doc.id}>
                        <label className="flex cursor-pointer items-center gap-2 rounded px-1 py-1 hover:bg-slate-100">
                          <input type="checkbox" checked={chosenSet.has(doc.id)} onChange={() => toggle(doc.id)} className="h-4 w-4" />
                          <span className="min-w-0 flex-1 truncate">{doc.filename}</span>
                          <SharedByBadge owner={doc.owner} role={doc.my_role} />
                        </label>
                      </li>
                    ))}
                  </ul>
                )
              ) : null}
            </div>
          </div>
          <div className="mt-2 flex justify-end">
            <button type="button" className="btn-ghost" onClick={close}>
              Done
            </button>
          </div>
        </fieldset>
      ) : null}
    </div>
  );
}
