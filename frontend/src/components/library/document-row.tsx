"use client";

import type { CSSProperties, Ref } from "react";
import Link from "next/link";
import { ProgressBar } from "@/components/ui/progress-bar";
import { SharedByBadge } from "@/components/sharing/role-badge";
import type { SharedDocument } from "@/lib/api/teams-contract";
import { documentStatusText, formatBytes, formatDate, isDocumentBusy, locationNoun, pluralize } from "@/lib/format";

function sourceHost(url: string | null | undefined): string | null {
  if (!url) return null;
  try {
    return new URL(url).host;
  } catch {
    return null;
  }
}

const STATUS_BADGE: Record<SharedDocument["status"], string> = {
  queued: "bg-slate-100 text-slate-800",
  processing: "bg-amber-100 text-amber-900",
  ready: "bg-green-100 text-green-900",
  failed: "bg-red-100 text-red-900",
};

const STATUS_LABEL: Record<SharedDocument["status"], string> = {
  queued: "Queued",
  processing: "Processing",
  ready: "Ready",
  failed: "Failed",
};

type DocumentRowProps = {
  document: SharedDocument;
  onDelete: (document: SharedDocument) => void;
  onRetry: (document: SharedDocument) => void;
  retrying: boolean;
  /** In a collection the user may edit: takes the document out of it (the document stays). */
  onRemoveFromCollection?: (document: SharedDocument) => void;
  /** In the library: a checkbox selects the row for a bulk action. */
  selected?: boolean;
  onSelect?: (document: SharedDocument, selected: boolean) => void;
  /** In the library: the folder shows as a link that narrows the list to it. */
  onFolder?: (folder: string) => void;
  /** A virtualised list positions and measures its rows. */
  style?: CSSProperties;
  measureRef?: Ref<HTMLLIElement>;
  index?: number;
};

/** Retrying a failed document can help, unless the file itself is the problem (password-protected, damaged). */
export function canRetry(document: SharedDocument): boolean {
  return document.status === "failed" && (document.retryable ?? true);
}

export function DocumentRow({
  document,
  onDelete,
  onRetry,
  retrying,
  onRemoveFromCollection,
  selected,
  onSelect,
  onFolder,
  style,
  measureRef,
  index,
}: DocumentRowProps) {
  const busy = isDocumentBusy(document);
  // Only a document's owner deletes or reprocesses it (a missing role: the API predates sharing, all are the user's).
  const owned = (document.my_role ?? "owner") === "owner";
  const facts = [
    formatBytes(document.size_bytes),
    document.page_count != null ? pluralize(document.page_count, locationNoun(document.content_type)) : null,
    document.status === "ready" ? pluralize(document.chunk_count, "passage") : null,
    document.ocr_pages && document.status === "ready" ? `text of ${pluralize(document.ocr_pages, "page")} read by OCR` : null,
    formatDate(document.created_at),
    sourceHost(document.source_url) ? `from ${sourceHost(document.source_url)}` : null,
  ].filter(Boolean);

  return (
    <li
      ref={measureRef}
      style={style}
      data-index={index}
      className="flex flex-col gap-2 border-b border-slate-200 bg-white p-4 sm:flex-row sm:items-center sm:gap-4"
      data-testid="document-row"
      data-status={document.status}
      data-role={document.my_role ?? "owner"}
    >
      {onSelect ? (
        <input
          type="checkbox"
          className="h-4 w-4 shrink-0"
          checked={selected ?? false}
          onChange={(event) => onSelect(document, event.target.checked)}
          aria-label={`Select ${document.filename}`}
        />
      ) : null}
      <div className="min-w-0 flex-1">
        <div className="flex flex-wrap items-center gap-2">
          <h3 className="min-w-0 truncate text-sm font-medium text-slate-900" title={document.filename}>
            {document.filename}
          </h3>
          <span className={`rounded-full px-2 py-0.5 text-xs font-medium ${STATUS_BADGE[document.status]}`}>
            {STATUS_LABEL[document.status]}
          </span>
          <SharedByBadge owner={document.owner} role={document.my_role} />
        </div>
        <p className="mt-0.5 text-xs text-slate-600">
          {document.folder ? (
            onFolder ? (
              <button type="button" className="mr-1 underline" onClick={() => onFolder(document.folder as string)}>
                {document.folder}/<span className="sr-only"> (show this folder)</span>
              </button>
            ) : (
              <span className="mr-1">{document.folder}/</span>
            )
          ) : null}
          {facts.join(" · ")}
        </p>
        {busy ? (
          <div className="mt-2 flex items-center gap-3">
            <ProgressBar value={document.progress} label={`Processing ${document.filename}`} tone="muted" />
            <span className="w-48 shrink-0 text-right text-xs text-slate-600">
              {documentStatusText(document)} · {Math.round(document.progress)}%
            </span>
          </div>
        ) : null}
        {document.status === "ready" && document.notice ? (
          <p className="mt-1 text-sm text-amber-900" data-testid="document-notice">
            {document.notice}
          </p>
        ) : null}
        {document.status === "failed" ? (
          <p className="mt-1 text-sm text-red-800" data-testid="document-error">
            {documentStatusText(document)}
            {owned && !canRetry(document) ? " Retrying cannot fix this file: delete it and upload a fixed copy." : null}
          </p>
        ) : null}
      </div>
      <div className="flex shrink-0 gap-2">
        {document.status === "ready" ? (
          <Link href={`/chat/?document=${encodeURIComponent(document.id)}`} className="btn-secondary" data-testid="ask-about-document">
            Ask<span className="sr-only"> about {document.filename}</span>
          </Link>
        ) : null}
        {canRetry(document) && owned ? (
          <button type="button" className="btn-secondary" onClick={() => onRetry(document)} disabled={retrying}>
            {retrying ? "Retrying…" : "Retry"}
            <span className="sr-only"> processing {document.filename}</span>
          </button>
        ) : null}
        {onRemoveFromCollection ? (
          <button type="button" className="btn-secondary" onClick={() => onRemoveFromCollection(document)}>
            Remove<span className="sr-only"> {document.filename} from the collection</span>
          </button>
        ) : null}
        {owned ? (
          <button type="button" className="btn-secondary" onClick={() => onDelete(document)}>
            Delete<span className="sr-only"> {document.filename}</span>
          </button>
        ) : null}
      </div>
    </li>
  );
}
