"use client";

import Link from "next/link";
import { useState, type FormEvent } from "react";
import { RoleBadge } from "@/components/sharing/role-badge";
import { TextField } from "@/components/ui/text-field";
import { errorMessage } from "@/lib/api";
import type { CollectionOut } from "@/lib/api/teams-contract";
import { useCollections, useCreateCollection } from "@/hooks/use-collections";

export const collectionHref = (id: string) => `/library/?collection=${encodeURIComponent(id)}`;

function NewCollectionForm({ onCreated }: { onCreated: (collection: CollectionOut) => void }) {
  const create = useCreateCollection();
  const [name, setName] = useState("");
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const trimmed = name.trim();
    if (!trimmed) return;
    create.mutate(
      { name: trimmed, description: "" },
      {
        onSuccess: (created) => {
          setName("");
          onCreated(created);
        },
      },
    );
  };
  return (
    <form onSubmit={submit} className="space-y-2" aria-label="Create a collection" noValidate>
      <TextField
        id="new-collection-name"
        label="New collection"
        autoComplete="off"
        placeholder="e.g. Contracts 2026"
        maxLength={200}
        value={name}
        onChange={(event) => setName(event.target.value)}
        error={create.isError ? errorMessage(create.error) : undefined}
        disabled={create.isPending}
      />
      <button type="submit" className="btn-secondary w-full" disabled={create.isPending || !name.trim()}>
        {create.isPending ? "Creating…" : "Create collection"}
      </button>
    </form>
  );
}

type CollectionSidebarProps = {
  activeId: string | null;
  /** A collection was created here: open it. */
  onCreated: (collection: CollectionOut) => void;
};

/** "All documents" plus the collections the user owns or that are shared with them. */
export function CollectionSidebar({ activeId, onCreated }: CollectionSidebarProps) {
  const collections = useCollections();
  const itemClass = (active: boolean) =>
    `flex min-w-0 items-center gap-2 rounded-md px-2 py-1.5 text-sm ${active ? "bg-blue-50 font-medium text-blue-900" : "text-slate-800 hover:bg-slate-100"}`;

  return (
    <nav aria-label="Collections" className="space-y-4">
      <ul className="space-y-0.5">
        <li>
          <Link href="/library/" className={itemClass(activeId === null)} aria-current={activeId === null ? "page" : undefined}>
            All documents
          </Link>
        </li>
      </ul>
      <div>
        <h2 className="px-2 text-xs font-semibold uppercase tracking-wide text-slate-600">Collections</h2>
        {collections.isPending ? (
          <p className="px-2 py-1 text-sm text-slate-600">Loading…</p>
        ) : collections.isError ? (
          <p className="px-2 py-1 text-sm text-red-700" role="alert">
            {errorMessage(collections.error)}
          </p>
        ) : collections.data.length === 0 ? (
          <p className="px-2 py-1 text-sm text-slate-600">No collections yet.</p>
        ) : (
          <ul className="mt-1 space-y-0.5" data-testid="collection-list">
            {collections.data.map((collection) => {
              const active = collection.id === activeId;
              return (
                <li key={collection.id}>
                  <Link
                    href={collectionHref(collection.id)}
                    className={itemClass(active)}
                    aria-current={active ? "page" : undefined}
                  >
                    <span className="min-w-0 flex-1 truncate" title={collection.name}>
                      {collection.name}
                    </span>
                    <span className="shrink-0 text-xs text-slate-600">{collection.document_count}</span>
                    {collection.my_role !== "owner" ? <RoleBadge role={collection.my_role} /> : null}
                  </Link>
                </li>
              );
            })}
          </ul>
        )}
      </div>
      <NewCollectionForm onCreated={onCreated} />
      <p className="px-2 text-sm">
        <Link href="/groups/" className="text-blue-700 underline">
          Manage groups
        </Link>
      </p>
    </nav>
  );
}
