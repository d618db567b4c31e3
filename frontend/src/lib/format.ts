import type { Citation, DocumentRecord } from "@/lib/api/types";

export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return "—";
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KB", "MB", "GB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value >= 10 ? value.toFixed(0) : value.toFixed(1)} ${units[unit]}`;
}

const STAGE_LABELS: Record<NonNullable<DocumentRecord["stage"]>, string> = {
  queued: "Waiting to be processed",
  parse: "Reading the text",
  ocr: "Reading scanned pages (OCR)",
  chunk: "Splitting into passages",
  embed: "Computing search vectors",
  index: "Indexing",
  done: "Done",
};

/** What is happening to a document, in words. */
export function documentStatusText(doc: Pick<DocumentRecord, "status" | "stage" | "error">): string {
  switch (doc.status) {
    case "queued":
      return "Waiting to be processed";
    case "processing":
      return doc.stage ? STAGE_LABELS[doc.stage] : "Processing";
    case "ready":
      return "Ready";
    case "failed":
      return doc.error ? `Failed: ${doc.error}` : "Failed: the document could not be processed.";
  }
}

export function isDocumentBusy(doc: Pick<DocumentRecord, "status">): boolean {
  return doc.status === "queued" || doc.status === "processing";
}

/** Where a citation points: the page of its cited sentence, else the passage's page range. */
export function pageLabel(citation: Pick<Citation, "page" | "page_start" | "page_end">): string | null {
  if (citation.page != null) return `page ${citation.page}`;
  const { page_start: start, page_end: end } = citation;
  if (start == null) return null;
  if (end == null || end === start) return `page ${start}`;
  return `pages ${start}–${end}`;
}

/** The name a citation shows for its document ("a deleted document" once it is gone). */
export function sourceName(citation: Pick<Citation, "filename" | "source_deleted">): string {
  return citation.source_deleted ? "a deleted document" : citation.filename;
}

export function formatDate(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export function pluralize(count: number, singular: string, plural = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : plural}`;
}
