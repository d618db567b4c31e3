"use client";

import { useEffect, useRef } from "react";
import { DocumentViewer } from "@/components/viewer/document-viewer";
import type { Citation } from "@/lib/api";
import { pageLabel, sourceName } from "@/lib/format";
import { citationTarget, viewerHref } from "@/lib/viewer/link";

type SourcePanelProps = {
  citation: Citation;
  onClose: () => void;
};

/** The snippet with the cited sentences marked; never cut inside them (the API keeps them whole). */
function Snippet({ citation }: { citation: Citation }) {
  const { snippet } = citation;
  const marks = citation.snippet_highlights ?? [];
  const pieces = [];
  let offset = 0;
  for (const [index, [start, end]] of marks.entries()) {
    if (start < offset) continue;
    pieces.push(snippet.slice(offset, start));
    pieces.push(
      <mark key={index} className="viewer-highlight" data-testid="snippet-highlight">
        {snippet.slice(start, end)}
      </mark>,
    );
    offset = end;
  }
  pieces.push(snippet.slice(offset));
  return <>{pieces}</>;
}

/** The cited passage and the document itself at the cited page: a side panel on a desktop, full screen on a phone. */
export function SourcePanel({ citation, onClose }: SourcePanelProps) {
  const headingRef = useRef<HTMLHeadingElement>(null);
  const page = pageLabel(citation);
  const target = citationTarget(citation);

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

  return (
    <aside
      aria-labelledby="source-panel-heading"
      data-testid="source-panel"
      className="fixed inset-x-0 bottom-0 top-14 z-40 flex flex-col border-l border-slate-200 bg-white shadow-xl lg:static lg:z-auto lg:w-[34rem] lg:shrink-0 lg:shadow-none 2xl:w-[48rem]"
    >
      <div className="border-b border-slate-200 p-3">
        <div className="flex items-start justify-between gap-3">
          <h2 ref={headingRef} id="source-panel-heading" tabIndex={-1} className="text-base font-semibold text-slate-900">
            Source {citation.n}
          </h2>
          <button type="button" className="btn-ghost" onClick={onClose}>
            Close<span className="sr-only"> source panel</span>
          </button>
        </div>
        <dl className="mt-1 space-y-1 text-sm">
          <div className="flex gap-2">
            <dt className="w-20 shrink-0 text-slate-600">Document</dt>
            <dd className="min-w-0 break-words font-medium text-slate-900" data-testid="source-filename">
              {sourceName(citation)}
            </dd>
          </div>
          {!citation.source_deleted ? (
            <div className="flex gap-2">
              <dt className="w-20 shrink-0 text-slate-600">Location</dt>
              <dd className="text-slate-900" data-testid="source-page">
                {page.charAt(0).toUpperCase() + page.slice(1)}
              </dd>
            </div>
          ) : null}
        </dl>
        {citation.snippet ? (
          <figure className="mt-2">
            <figcaption className="text-xs font-medium uppercase tracking-wide text-slate-600">Cited passage</figcaption>
            <blockquote
              className="mt-1 max-h-40 overflow-y-auto whitespace-pre-wrap rounded-md border-l-4 border-blue-600 bg-slate-50 p-2 text-sm leading-relaxed text-slate-800"
              data-testid="source-snippet"
              tabIndex={0}
            >
              <Snippet citation={citation} />
            </blockquote>
          </figure>
        ) : null}
      </div>
      {citation.source_deleted ? (
        <p className="m-4 rounded-md border border-slate-300 bg-slate-50 p-3 text-sm text-slate-800" data-testid="source-deleted">
          Source deleted: this document was deleted after the answer was written, and its text with it.
        </p>
      ) : (
        <DocumentViewer key={`${citation.document_id}:${citation.n}`} target={target} fullViewHref={viewerHref(target)} />
      )}
    </aside>
  );
}
