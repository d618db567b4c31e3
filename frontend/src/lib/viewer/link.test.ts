import { describe, expect, it } from "vitest";
import type { Citation } from "@/lib/api/types";
import { citationTarget, parseViewerParams, viewerHref } from "./link";

const citation: Citation = {
  n: 2,
  chunk_id: 41,
  document_id: "doc-1",
  filename: "model.pdf",
  content_type: "application/pdf",
  page: 7,
  page_start: 6,
  page_end: 7,
  highlights: [{ page: 7, start: 120, end: 245, text: "Four packages constitute the model." }],
  snippet: "Four packages constitute the model.",
  char_start: 900,
  char_end: 300,
  score: 0.8,
  source_deleted: false,
};

describe("viewer links", () => {
  it("open a citation at the page of its cited sentence, not the passage's first page", () => {
    expect(citationTarget(citation)).toEqual({
      documentId: "doc-1",
      page: 7,
      chunkId: "41",
      highlights: [{ page: 7, start: 120, end: 245 }],
    });
  });

  it("falls back to the passage's first page for answers stored before pages were known", () => {
    const { page: _page, highlights: _highlights, ...old } = citation;
    expect(citationTarget(old)).toMatchObject({ page: 6, highlights: [] });
  });

  it("round-trips through the deep link", () => {
    const target = citationTarget(citation);
    const href = viewerHref(target);
    expect(href).toBe("/viewer/?document=doc-1&page=7&chunk=41&hl=7%3A120-245");
    expect(parseViewerParams(new URL(href, "http://x").searchParams)).toEqual(target);
  });

  it("ignores malformed parts and needs a document", () => {
    expect(parseViewerParams(new URLSearchParams("page=3"))).toBeNull();
    expect(parseViewerParams(new URLSearchParams("document=d&page=-2&hl=7:9-3,x,3:1-5"))).toEqual({
      documentId: "d",
      page: null,
      chunkId: null,
      highlights: [{ page: 3, start: 1, end: 5 }],
    });
  });
});
