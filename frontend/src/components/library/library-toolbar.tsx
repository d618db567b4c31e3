"use client";

import { useEffect, useState } from "react";
import { recentRange, type AddedRange, type DocumentStatus, type LibraryFilters, type RecentPreset, type StatusCounts } from "@/lib/library/api";

const STATUSES: { value: DocumentStatus | null; label: string }[] = [
  { value: null, label: "All" },
  { value: "ready", label: "Ready" },
  { value: "processing", label: "Processing" },
  { value: "queued", label: "Queued" },
  { value: "failed", label: "Failed" },
];

const KINDS: { value: string; label: string }[] = [
  { value: "pdf", label: "PDF" },
  { value: "docx", label: "Word" },
  { value: "xlsx", label: "Excel (.xlsx)" },
  { value: "xls", label: "Excel (.xls)" },
  { value: "csv", label: "CSV / TSV" },
  { value: "pptx", label: "PowerPoint" },
  { value: "epub", label: "EPUB" },
  { value: "html", label: "HTML" },
  { value: "webpage", label: "Web page" },
  { value: "markdown", label: "Markdown" },
  { value: "text", label: "Text" },
  { value: "image", label: "Image" },
];

const SORTS: { value: string; label: string }[] = [
  { value: "date:desc", label: "Newest first" },
  { value: "date:asc", label: "Oldest first" },
  { value: "name:asc", label: "Name A–Z" },
  { value: "name:desc", label: "Name Z–A" },
  { value: "size:desc", label: "Largest first" },
  { value: "size:asc", label: "Smallest first" },
  { value: "status:asc", label: "Status" },
];

const ADDED: { value: AddedRange["kind"] | RecentPreset; label: string }[] = [
  { value: "any", label: "Any time" },
  { value: "7d", label: "Last 7 days" },
  { value: "30d", label: "Last 30 days" },
  { value: "12m", label: "Last 12 months" },
  { value: "custom", label: "Custom…" },
];

function addedRangeFor(choice: string): AddedRange {
  if (choice === "any") return { kind: "any" };
  if (choice === "custom") return { kind: "custom", from: "", to: "" };
  return recentRange(choice as RecentPreset);
}

/** How long typing pauses before the search is sent. */
export const SEARCH_DEBOUNCE_MS = 300;

type LibraryToolbarProps = {
  filters: LibraryFilters;
  counts: StatusCounts | undefined;
  onChange: (filters: LibraryFilters) => void;
};

/** Search by filename or folder, status (with counts), format, date added, folder and sort. */
export function LibraryToolbar({ filters, counts, onChange }: LibraryToolbarProps) {
  const [query, setQuery] = useState(filters.q);
  // The search the field last sent, and the one last seen: when it changes from outside ("Show
  // every document"), the field follows, or its debounce would send the old text again.
  const [sentQuery, setSentQuery] = useState(filters.q);
  const [seenQuery, setSeenQuery] = useState(filters.q);
  if (filters.q !== seenQuery) {
    setSeenQuery(filters.q);
    if (filters.q !== sentQuery) setQuery(filters.q);
  }
  useEffect(() => {
    if (query === filters.q) return;
    const timer = setTimeout(() => {
      setSentQuery(query);
      onChange({ ...filters, q: query });
    }, SEARCH_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [query, filters, onChange]);

  const added = filters.added;
  const setAdded = (range: AddedRange) => onChange({ ...filters, added: range });
  const countOf = (status: DocumentStatus | null) =>
    counts ? (status ? counts[status] : counts.queued + counts.processing + counts.ready + counts.failed) : null;

  return (
    <div className="space-y-3" data-testid="library-toolbar">
      <div className="flex flex-wrap items-end gap-3">
        <label className="flex min-w-48 flex-1 flex-col text-xs font-medium text-slate-700">
          Search
          <input
            type="search"
            className="input mt-1"
            placeholder="File or folder name"
            value={query}
            onChange={(event) => setQuery(event.target.value)}
          />
        </label>
        <label className="flex flex-col text-xs font-medium text-slate-700">
          Type
          <select
            className="input mt-1"
            value={filters.kind ?? ""}
            onChange={(event) => onChange({ ...filters, kind: event.target.value || null })}
          >
            <option value="">All types</option>
            {KINDS.map((kind) => (
              <option key={kind.value} value={kind.value}>
                {kind.label}
              </option>
            ))}
          </select>
        </label>
        <label className="flex flex-col text-xs font-medium text-slate-700">
          Added
          <select
            className="input mt-1"
            value={added.kind === "recent" ? added.preset : added.kind}
            onChange={(event) => setAdded(addedRangeFor(event.target.value))}
          >
            {ADDED.map((choice) => (
              <option key={choice.value} value={choice.value}>
                {choice.label}
              </option>
            ))}
          </select>
        </label>
        {added.kind === "custom" ? (
          <div role="group" aria-label="Added between" className="flex items-end gap-2">
            <label className="flex flex-col text-xs font-medium text-slate-700">
              From
              <input
                type="date"
                className="input mt-1"
                value={added.from}
                max={added.to || undefined}
                onChange={(event) => setAdded({ ...added, from: event.target.value })}
              />
            </label>
            <label className="flex flex-col text-xs font-medium text-slate-700">
              To
              <input
                type="date"
                className="input mt-1"
                value={added.to}
                min={added.from || undefined}
                onChange={(event) => setAdded({ ...added, to: event.target.value })}
              />
            </label>
          </div>
        ) : null}
        <label className="flex flex-col text-xs font-medium text-slate-700">
          Sort
          <select
            className="input mt-1"
            value={`${filters.sort}:${filters.order}`}
            onChange={(event) => {
              const [sort, order] = event.target.value.split(":") as [LibraryFilters["sort"], LibraryFilters["order"]];
              onChange({ ...filters, sort, order });
            }}
          >
            {SORTS.map((sort) => (
              <option key={sort.value} value={sort.value}>
                {sort.label}
              </option>
            ))}
          </select>
        </label>
      </div>
      <div className="flex flex-wrap items-center gap-2" role="group" aria-label="Status">
        {STATUSES.map((status) => {
          const active = filters.status === status.value;
          const count = countOf(status.value);
          return (
            <button
              key={status.label}
              type="button"
              aria-pressed={active}
              className={`rounded-full border px-3 py-1 text-xs font-medium ${
                active ? "border-blue-700 bg-blue-700 text-white" : "border-slate-300 bg-white text-slate-800 hover:bg-slate-50"
              }`}
              onClick={() => onChange({ ...filters, status: status.value })}
            >
              {status.label}
              {count !== null ? <span data-testid={`count-${status.value ?? "all"}`}> {count.toLocaleString()}</span> : null}
            </button>
          );
        })}
        {filters.folder ? (
          <button
            type="button"
            className="rounded-full border border-slate-300 bg-slate-100 px-3 py-1 text-xs font-medium text-slate-800"
            onClick={() => onChange({ ...filters, folder: null })}
          >
            Folder: {filters.folder} <span aria-hidden="true">×</span>
            <span className="sr-only"> (show every folder)</span>
          </button>
        ) : null}
      </div>
      {added.kind === "custom" && added.from && added.to && added.from > added.to ? (
        <p className="text-xs text-red-800" data-testid="added-range-error">
          “From” is after “To”: no document was added between them.
        </p>
      ) : null}
    </div>
  );
}
