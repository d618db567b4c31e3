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

/** The pipeline's stages (`stage` is a plain string in the API: an unknown one reads "Processing"). */
const STAGE_LABELS: Partial<Record<string, string>> = {
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
      return (doc.stage && STAGE_LABELS[doc.stage]) || "Processing";
    case "ready":
      return "Ready";
    case "failed":
      return doc.error ? `Failed: ${doc.error}` : "Failed: the document could not be processed.";
  }
}

export function isDocumentBusy(doc: Pick<DocumentRecord, "status">): boolean {
  return doc.status === "queued" || doc.status === "processing";
}

type LocatedCitation = Pick<Citation, "page" | "page_start" | "page_end"> &
  Partial<Pick<Citation, "content_type" | "sheet" | "row_start" | "row_end">>;

/** What a page of a document is called: a sheet, a slide, a chapter or a page. */
export function locationNoun(contentType: string | undefined): "sheet" | "slide" | "chapter" | "page" {
  const type = contentType?.split(";")[0]?.trim();
  if (type && SPREADSHEET_TYPES.has(type)) return "sheet";
  if (type === PPTX_TYPE) return "slide";
  if (type === "application/epub+zip") return "chapter";
  return "page";
}

export const PPTX_TYPE = "application/vnd.openxmlformats-officedocument.presentationml.presentation";
export const SPREADSHEET_TYPES = new Set([
  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
  "application/vnd.ms-excel",
  "text/csv",
]);

/** Where a citation points: a spreadsheet's sheet and rows; else the page (slide, chapter) of its cited sentence, else the passage's page range. */
export function pageLabel(citation: LocatedCitation): string {
  if (citation.row_start != null) {
    const rows =
      citation.row_end == null || citation.row_end === citation.row_start
        ? `row ${citation.row_start}`
        : `rows ${citation.row_start}–${citation.row_end}`;
    return citation.sheet ? `sheet “${citation.sheet}”, ${rows}` : rows;
  }
  const noun = locationNoun(citation.content_type);
  if (citation.page != null) return `${noun} ${citation.page}`;
  const { page_start: start, page_end: end } = citation;
  if (end === start) return `${noun} ${start}`;
  return `${noun}s ${start}–${end}`;
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
