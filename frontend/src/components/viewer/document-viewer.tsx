"use client";

import Link from "next/link";
import { queryOptions, useQuery } from "@tanstack/react-query";
import { useCallback, useEffect, useState } from "react";
import { ErrorAlert } from "@/components/ui/alert";
import { Spinner } from "@/components/ui/spinner";
import { ApiError, errorMessage, type DocumentPage, type DocumentRecord } from "@/lib/api";
import { documentsApi } from "@/lib/api/endpoints";
import { downloadOriginal } from "@/lib/download-original";
import type { HighlightRange, ViewerTarget } from "@/lib/viewer/link";
import { PdfPage, usePdfDocument } from "./pdf-page";
import { locationNoun } from "@/lib/format";
import { TablePage } from "./table-page";
import { ImagePage } from "./image-page";
import { TextPage } from "./text-page";
import { WordHighlights } from "./word-highlights";

/** Relative to the page fitted to the viewer's width. */
const PDF_ZOOMS = [0.5, 0.75, 1, 1.25, 1.5, 2];
const TEXT_ZOOMS = [0.875, 1, 1.125, 1.25, 1.5];
const DEFAULT_ZOOM = 1;

const GONE = "This document has been deleted, or you do not have access to it.";

type DocumentViewerProps = {
  target: ViewerTarget;
  /** A link to the same view on its own page (shown in the chat's side panel). */
  fullViewHref?: string;
};

/** One document's record, shared by the viewer and the page that names its tab after it. */
export function documentQueryOptions(documentId: string) {
  return queryOptions({
    queryKey: ["document", documentId],
    queryFn: () => documentsApi.get(documentId),
    retry: false,
  });
}

/** A document at a page, with the cited sentences marked: PDFs rendered by pdf.js, other formats as DocChat's extracted text. */
export function DocumentViewer({ target, fullViewHref }: DocumentViewerProps) {
  const documentQuery = useQuery(documentQueryOptions(target.documentId));
  const needsChunk = target.highlights.length === 0 && target.chunkId !== null;
  const chunkQuery = useQuery({
    queryKey: ["chunk", target.documentId, target.chunkId],
    queryFn: () => documentsApi.chunk(target.documentId, Number(target.chunkId)),
    enabled: needsChunk,
    retry: false,
  });
  const highlights = needsChunk ? (chunkQuery.data?.highlights ?? []) : target.highlights;
  const startPage = target.page ?? chunkQuery.data?.page ?? highlights[0]?.page ?? 1;

  if (documentQuery.isError) {
    const gone = documentQuery.error instanceof ApiError && documentQuery.error.status === 404;
    return <ErrorAlert className="m-4">{gone ? GONE : errorMessage(documentQuery.error)}</ErrorAlert>;
  }
  if (!documentQuery.data || (needsChunk && chunkQuery.isPending)) {
    return <ViewerLoading label="Opening the document…" />;
  }
  return (
    <LoadedViewer
      key={`${target.documentId}:${startPage}`}
      document={documentQuery.data}
      startPage={startPage}
      highlights={highlights}
      fullViewHref={fullViewHref}
    />
  );
}

function ViewerLoading({ label }: { label: string }) {
  return (
    <div className="flex items-center gap-2 p-4 text-sm text-slate-600" role="status">
      <Spinner className="h-4 w-4" />
      {label}
    </div>
  );
}

type LoadedViewerProps = {
  document: DocumentRecord;
  startPage: number;
  highlights: HighlightRange[];
  fullViewHref?: string;
};

function LoadedViewer({ document, startPage, highlights, fullViewHref }: LoadedViewerProps) {
  const isPdf = document.content_type.split(";")[0]?.trim() === "application/pdf";
  const isImage = document.content_type.startsWith("image/");
  const [imageError, setImageError] = useState<unknown>(null);
  const [page, setPage] = useState(startPage);
  const [zoom, setZoom] = useState(DEFAULT_ZOOM);
  const [pageCount, setPageCount] = useState<number | null>(document.page_count);
  const [downloadError, setDownloadError] = useState<string | null>(null);
  const zooms = isPdf || isImage ? PDF_ZOOMS : TEXT_ZOOMS;
  const zoomIndex = zooms.indexOf(zoom);
  const pageHighlights = highlights.filter((highlight) => highlight.page === page);
  const pageMarks = pageHighlights.map(({ start, end }): [number, number] => [start, end]);

  const pageQuery = useQuery({
    queryKey: ["document-page", document.id, page],
    queryFn: () => documentsApi.page(document.id, page),
    enabled: !isPdf || pageHighlights.length > 0,
    retry: false,
  });
  const storedCount = pageQuery.data?.page_count;
  const count = isPdf ? pageCount : (storedCount ?? pageCount);
  const noun = locationNoun(document.content_type);
  const Noun = noun.charAt(0).toUpperCase() + noun.slice(1);
  const title = pageQuery.data?.number === page ? pageQuery.data.title : null;

  const download = async () => {
    setDownloadError(null);
    try {
      await downloadOriginal(document);
    } catch (error) {
      setDownloadError(errorMessage(error));
    }
  };

  return (
    <div className="flex min-h-0 flex-1 flex-col" data-testid="document-viewer" data-page={page}>
      <div className="flex flex-wrap items-center gap-2 border-b border-slate-200 bg-white px-3 py-2 text-sm">
        <nav aria-label="Pages" className="flex items-center gap-1">
          <button type="button" className="btn-ghost px-2" onClick={() => setPage(page - 1)} disabled={page <= 1}>
            <span aria-hidden="true">‹</span>
            <span className="sr-only">Previous {noun}</span>
          </button>
          <span data-testid="viewer-page-label" aria-live="polite">
            {Noun} {page}
            {count ? ` of ${count}` : ""}
          </span>
          {title ? (
            <span className="max-w-[16rem] truncate font-medium text-slate-900" data-testid="viewer-page-title" title={title}>
              {title}
            </span>
          ) : null}
          <button
            type="button"
            className="btn-ghost px-2"
            onClick={() => setPage(page + 1)}
            disabled={count !== null && page >= count}
          >
            <span aria-hidden="true">›</span>
            <span className="sr-only">Next {noun}</span>
          </button>
        </nav>
        <div className="flex items-center gap-1" role="group" aria-label="Zoom">
          <button type="button" className="btn-ghost px-2" onClick={() => setZoom(zooms[zoomIndex - 1]!)} disabled={zoomIndex <= 0}>
            <span aria-hidden="true">−</span>
            <span className="sr-only">Zoom out</span>
          </button>
          <span className="w-12 text-center tabular-nums">{Math.round(zoom * 100)}%</span>
          <button
            type="button"
            className="btn-ghost px-2"
            onClick={() => setZoom(zooms[zoomIndex + 1]!)}
            disabled={zoomIndex >= zooms.length - 1}
          >
            <span aria-hidden="true">+</span>
            <span className="sr-only">Zoom in</span>
          </button>
        </div>
        <div className="ml-auto flex items-center gap-2">
          {fullViewHref ? (
            <Link href={fullViewHref} className="btn-ghost" target="_blank" rel="noopener">
              Full view
            </Link>
          ) : null}
          <button type="button" className="btn-secondary" onClick={() => void download()}>
            Download original
          </button>
        </div>
      </div>
      {downloadError ? <ErrorAlert className="m-3">{downloadError}</ErrorAlert> : null}
      <div
        className="min-h-0 flex-1 overflow-auto bg-slate-100 p-3"
        data-testid="viewer-scroll"
        role="region"
        aria-label={`${document.filename}, ${noun} ${page}`}
        tabIndex={0}
      >
        {isPdf ? (
          <PdfView
            documentId={document.id}
            page={page}
            zoom={zoom}
            pageText={pageQuery.data}
            pageTextMissing={pageQuery.isError}
            highlights={pageHighlights}
            onPageCount={setPageCount}
          />
        ) : pageQuery.isError || imageError ? (
          <ErrorAlert>{errorMessage(pageQuery.error ?? imageError)}</ErrorAlert>
        ) : pageQuery.data && isImage ? (
          <ImagePage
            documentId={document.id}
            page={pageQuery.data}
            zoom={zoom}
            marks={pageMarks}
            onError={setImageError}
          />
        ) : pageQuery.data?.row_numbers ? (
          <TablePage
            text={pageQuery.data.text}
            rowNumbers={pageQuery.data.row_numbers}
            marks={pageMarks}
            fontScale={zoom}
          />
        ) : pageQuery.data ? (
          <TextPage
            text={pageQuery.data.text}
            marks={pageMarks}
            furniture={pageQuery.data.furniture}
            fontScale={zoom}
          />
        ) : (
          <ViewerLoading label="Loading the page…" />
        )}
      </div>
    </div>
  );
}

type PdfViewProps = {
  documentId: string;
  page: number;
  zoom: number;
  pageText: DocumentPage | undefined;
  pageTextMissing: boolean;
  highlights: HighlightRange[];
  onPageCount: (count: number) => void;
};

function PdfView({ documentId, page, zoom, pageText, pageTextMissing, highlights, onPageCount }: PdfViewProps) {
  const { pdf, error } = usePdfDocument(documentId);
  const [notFound, setNotFound] = useState(false);
  const texts = pageText ? highlights.map(({ start, end }) => pageText.text.slice(start, end)) : [];
  const waitingForText = highlights.length > 0 && !pageText && !pageTextMissing;
  const ocrMarks: [number, number][] = pageText?.ocr ? highlights.map(({ start, end }) => [start, end]) : [];
  const onRendered = useCallback(
    // A scanned page has no text layer: its cited words are boxed from OCR's word boxes instead.
    (found: number) => setNotFound(texts.length > 0 && found === 0 && ocrMarks.length === 0),
    [texts.length, ocrMarks.length],
  );
  useEffect(() => {
    if (pdf) onPageCount(pdf.numPages);
  }, [pdf, onPageCount]);

  if (error) {
    const gone = error instanceof ApiError && error.status === 404;
    return <ErrorAlert>{gone ? GONE : "This PDF could not be opened."}</ErrorAlert>;
  }
  if (!pdf || waitingForText) return <ViewerLoading label="Rendering the page…" />;
  return (
    <>
      {pageTextMissing && highlights.length > 0 ? (
        <p className="mb-2 text-sm text-slate-700">Reindex this document to see the cited sentence highlighted.</p>
      ) : null}
      {notFound ? <p className="mb-2 text-sm text-slate-700">The cited sentence could not be located on this page.</p> : null}
      <PdfPage
        pdf={pdf}
        pageNumber={Math.min(page, pdf.numPages)}
        zoom={zoom}
        highlightTexts={pageText?.ocr ? [] : texts}
        onRendered={onRendered}
        overlay={
          pageText?.ocr && ocrMarks.length > 0 ? (
            <WordHighlights words={pageText.words ?? []} marks={ocrMarks} text={pageText.text} />
          ) : null
        }
      />
    </>
  );
}
