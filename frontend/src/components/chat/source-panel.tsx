"use client";

import { useEffect, useRef, useState } from "react";
import { ErrorAlert } from "@/components/ui/alert";
import { errorMessage, type Citation } from "@/lib/api";
import { pageLabel } from "@/lib/format";
import { openOriginal, presentationFor } from "@/lib/open-original";

type SourcePanelProps = {
  citation: Citation;
  onClose: () => void;
};

/** The cited passage, its document and page, and a way to open the original there. */
export function SourcePanel({ citation, onClose }: SourcePanelProps) {
  const headingRef = useRef<HTMLHeadingElement>(null);
  const [opening, setOpening] = useState(false);
  const [openError, setOpenError] = useState<string | null>(null);
  const page = pageLabel(citation);
  const presentation = presentationFor(citation.content_type, citation.page_start);

  useEffect(() => {
    headingRef.current?.focus();
  }, [citation]);

  useEffect(() => {
    const onKeyDown = (event: KeyboardEvent) => {
      if (event.key === "Escape") onClose();
    };
    document.addEventListener("keydown", onKeyDown);
    return () => document.removeEventListener("keydown", onKeyDown);
  }, [onClose]);

  const open = async () => {
    setOpening(true);
    setOpenError(null);
    try {
      await openOriginal({
        id: citation.document_id,
        filename: citation.filename,
        contentType: citation.content_type,
        page: citation.page_start,
      });
    } catch (error) {
      setOpenError(errorMessage(error));
    } finally {
      setOpening(false);
    }
  };

  const openLabel =
    presentation.kind === "pdf" ? `Open PDF at ${page ?? "page 1"}` : presentation.kind === "text" ? "Open original" : "Download original";

  return (
    <aside
      aria-labelledby="source-panel-heading"
      data-testid="source-panel"
      className="fixed inset-x-0 bottom-0 top-14 z-40 flex flex-col overflow-y-auto border-l border-slate-200 bg-white p-4 shadow-xl lg:static lg:z-auto lg:w-96 lg:shrink-0 lg:shadow-none"
    >
      <div className="flex items-start justify-between gap-3">
        <h2 ref={headingRef} id="source-panel-heading" tabIndex={-1} className="text-base font-semibold text-slate-900">
          Source {citation.n}
        </h2>
        <button type="button" className="btn-ghost" onClick={onClose}>
          Close<span className="sr-only"> source panel</span>
        </button>
      </div>
      <dl className="mt-3 space-y-1 text-sm">
        <div className="flex gap-2">
          <dt className="w-20 shrink-0 text-slate-600">Document</dt>
          <dd className="min-w-0 break-words font-medium text-slate-900" data-testid="source-filename">
            {citation.filename}
          </dd>
        </div>
        {page ? (
          <div className="flex gap-2">
            <dt className="w-20 shrink-0 text-slate-600">Location</dt>
            <dd className="text-slate-900" data-testid="source-page">
              {page.charAt(0).toUpperCase() + page.slice(1)}
            </dd>
          </div>
        ) : null}
      </dl>
      <figure className="mt-4">
        <figcaption className="text-xs font-medium uppercase tracking-wide text-slate-600">Cited passage</figcaption>
        <blockquote className="mt-1 whitespace-pre-wrap rounded-md border-l-4 border-blue-600 bg-slate-50 p-3 text-sm leading-relaxed text-slate-800">
          {citation.snippet}
        </blockquote>
      </figure>
      <button type="button" className="btn-primary mt-4 self-start" onClick={open} disabled={opening}>
        {opening ? "Opening…" : openLabel}
      </button>
      {openError ? <ErrorAlert className="mt-3">{openError}</ErrorAlert> : null}
    </aside>
  );
}
