"use client";

import { useEffect, useRef, useState, type ReactNode } from "react";
import type { PDFDocumentProxy } from "pdfjs-dist";
import { api } from "@/lib/api";
import { apiErrorFromResponse } from "@/lib/api/errors";
import { documentsApi } from "@/lib/api/endpoints";
import { findInItems, type ItemRange } from "@/lib/viewer/text-match";

/** pdf.js's worker, fonts and maps are served from our own origin (scripts/copy-pdfjs-assets.mjs). */
const PDFJS_ASSETS = "/pdfjs";
/** Room left beside a page fitted to the viewer's width; below MIN_FIT_PX the page keeps its own size. */
const FIT_MARGIN_PX = 32;
const MIN_FIT_PX = 200;

async function loadPdfJs() {
  const pdfjs = await import("pdfjs-dist");
  pdfjs.GlobalWorkerOptions.workerSrc = `${PDFJS_ASSETS}/pdf.worker.min.mjs`;
  return pdfjs;
}

/** The original PDF of a document, fetched with the session's token and opened by pdf.js. */
export function usePdfDocument(documentId: string) {
  const [state, setState] = useState<{ documentId: string; pdf: PDFDocumentProxy | null; error: unknown } | null>(null);
  useEffect(() => {
    let cancelled = false;
    let opened: PDFDocumentProxy | null = null;
    (async () => {
      const response = await api.authorizedFetch(documentsApi.fileUrl(documentId));
      if (!response.ok) throw await apiErrorFromResponse(response);
      const data = new Uint8Array(await response.arrayBuffer());
      const pdfjs = await loadPdfJs();
      opened = await pdfjs.getDocument({
        data,
        isEvalSupported: false,
        standardFontDataUrl: `${PDFJS_ASSETS}/standard_fonts/`,
        cMapUrl: `${PDFJS_ASSETS}/cmaps/`,
        cMapPacked: true,
        wasmUrl: `${PDFJS_ASSETS}/wasm/`,
      }).promise;
      if (cancelled) void opened.destroy();
      else setState({ documentId, pdf: opened, error: null });
    })().catch((error: unknown) => {
      if (!cancelled) setState({ documentId, pdf: null, error });
    });
    return () => {
      cancelled = true;
      void opened?.destroy();
    };
  }, [documentId]);
  return state?.documentId === documentId ? state : { pdf: null, error: null };
}

type PdfPageProps = {
  pdf: PDFDocumentProxy;
  pageNumber: number;
  /** 1 fits the page to the width of the viewer. */
  zoom: number;
  /** Texts to mark on the page's text layer (the cited sentences). */
  highlightTexts: string[];
  onRendered?: (found: number) => void;
  /** Laid over the rendered page (the cited words of a scanned page, boxed). */
  overlay?: ReactNode;
};

/** One page: the canvas, pdf.js's text layer over it, and the cited sentences marked there. */
export function PdfPage({ pdf, pageNumber, zoom, highlightTexts, onRendered, overlay }: PdfPageProps) {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const textLayerRef = useRef<HTMLDivElement>(null);
  const [size, setSize] = useState<{ width: number; height: number } | null>(null);
  const [failed, setFailed] = useState<string | null>(null);
  const [rendered, setRendered] = useState(false);
  const highlightKey = highlightTexts.join("\u0000");

  useEffect(() => {
    let cancelled = false;
    let cleanup = () => {};
    (async () => {
      const pdfjs = await loadPdfJs();
      const page = await pdf.getPage(pageNumber);
      const canvas = canvasRef.current;
      const container = textLayerRef.current;
      if (cancelled || !canvas || !container) return;
      const available = (canvas.parentElement?.parentElement?.clientWidth ?? 0) - FIT_MARGIN_PX;
      const natural = page.getViewport({ scale: 1 }).width;
      const scale = (available > MIN_FIT_PX ? available / natural : 1) * zoom;
      const viewport = page.getViewport({ scale });
      const ratio = window.devicePixelRatio || 1;
      canvas.width = Math.floor(viewport.width * ratio);
      canvas.height = Math.floor(viewport.height * ratio);
      setSize({ width: viewport.width, height: viewport.height });
      const render = page.render({
        canvas,
        viewport,
        transform: ratio === 1 ? undefined : [ratio, 0, 0, ratio, 0, 0],
      });
      container.replaceChildren();
      container.style.setProperty("--total-scale-factor", String(scale));
      container.style.setProperty("--scale-factor", String(scale));
      const textLayer = new pdfjs.TextLayer({ textContentSource: page.streamTextContent(), container, viewport });
      cleanup = () => {
        render.cancel();
        textLayer.cancel();
      };
      await Promise.all([render.promise, textLayer.render()]);
      if (cancelled) return;
      const found = markHighlights(container, highlightKey ? highlightKey.split("\u0000") : []);
      container.querySelector("mark")?.scrollIntoView({ block: "center" });
      setRendered(true);
      onRendered?.(found);
    })().catch((error: unknown) => {
      if (!cancelled && !(error instanceof Error && error.name === "RenderingCancelledException")) {
        setFailed("This page could not be displayed.");
      }
    });
    return () => {
      cancelled = true;
      cleanup();
    };
  }, [pdf, pageNumber, zoom, highlightKey, onRendered]);

  if (failed) return <p className="p-4 text-sm text-red-800">{failed}</p>;
  return (
    <div
      className="pdf-page relative mx-auto bg-white shadow"
      style={size ? { width: size.width, height: size.height } : { minHeight: 200 }}
      data-testid="pdf-page"
      data-page-number={pageNumber}
    >
      <canvas ref={canvasRef} className="block h-full w-full" aria-hidden="true" />
      <div ref={textLayerRef} className="textLayer" data-testid="pdf-text-layer" />
      {rendered ? overlay : null}
    </div>
  );
}

/** Wraps the parts of the text layer's spans that hold each text in <mark>; returns how many texts were found. */
function markHighlights(container: HTMLElement, texts: string[]): number {
  const spans = [...container.querySelectorAll<HTMLSpanElement>("span")].filter(
    (span) => span.childElementCount === 0 && span.textContent,
  );
  const items = spans.map((span) => span.textContent ?? "");
  const bySpan = new Map<number, ItemRange[]>();
  let found = 0;
  for (const text of texts) {
    const ranges = findInItems(items, text);
    if (ranges.length > 0) found += 1;
    for (const range of ranges) bySpan.set(range.item, [...(bySpan.get(range.item) ?? []), range]);
  }
  for (const [index, ranges] of bySpan) {
    const span = spans[index]!;
    const text = items[index]!;
    const pieces: Node[] = [];
    let offset = 0;
    for (const { start, end } of [...ranges].sort((a, b) => a.start - b.start)) {
      if (start < offset) continue;
      if (start > offset) pieces.push(document.createTextNode(text.slice(offset, start)));
      const mark = document.createElement("mark");
      mark.className = "viewer-highlight";
      mark.dataset.testid = "viewer-highlight";
      mark.textContent = text.slice(start, end);
      pieces.push(mark);
      offset = end;
    }
    if (offset < text.length) pieces.push(document.createTextNode(text.slice(offset)));
    span.replaceChildren(...pieces);
  }
  return found;
}
