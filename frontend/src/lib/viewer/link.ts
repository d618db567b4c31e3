import type { Citation, Highlight } from "@/lib/api/types";

/** A span of a page's stored text, as a viewer link carries it. */
export type HighlightRange = Pick<Highlight, "page" | "start" | "end">;

/** What the viewer shows: a document at a page, with spans of its page texts marked. */
export type ViewerTarget = {
  documentId: string;
  page: number | null;
  /** Without highlights, the viewer marks this passage (GET /documents/{id}/chunks/{id}). */
  chunkId: string | null;
  highlights: HighlightRange[];
};

const RANGE = /^(\d{1,7}):(\d{1,9})-(\d{1,9})$/;

/** The viewer target of a citation: its page and its highlighted sentences. */
export function citationTarget(citation: Citation): ViewerTarget {
  return {
    documentId: citation.document_id,
    page: citation.page ?? citation.page_start,
    chunkId: String(citation.chunk_id),
    highlights: (citation.highlights ?? []).map(({ page, start, end }) => ({ page, start, end })),
  };
}

/** The deep link that reopens the same view (after sign-in too): /viewer/?document=…&page=…&chunk=…&hl=7:120-245 */
export function viewerHref(target: ViewerTarget): string {
  const params = new URLSearchParams({ document: target.documentId });
  if (target.page != null) params.set("page", String(target.page));
  if (target.chunkId) params.set("chunk", target.chunkId);
  if (target.highlights.length > 0) {
    params.set("hl", target.highlights.map(({ page, start, end }) => `${page}:${start}-${end}`).join(","));
  }
  return `/viewer/?${params.toString()}`;
}

/** Reads a deep link; null when it names no document. Malformed parts are ignored. */
export function parseViewerParams(params: URLSearchParams): ViewerTarget | null {
  const documentId = params.get("document");
  if (!documentId) return null;
  const page = Number(params.get("page"));
  const highlights: HighlightRange[] = [];
  for (const piece of (params.get("hl") ?? "").split(",")) {
    const match = RANGE.exec(piece);
    if (!match) continue;
    const [pageNumber, start, end] = [Number(match[1]), Number(match[2]), Number(match[3])];
    if (pageNumber >= 1 && end > start) highlights.push({ page: pageNumber, start, end });
  }
  return {
    documentId,
    page: Number.isInteger(page) && page >= 1 ? page : null,
    chunkId: params.get("chunk") || null,
    highlights,
  };
}
