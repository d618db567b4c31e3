"use client";

import { useEffect, useRef, useState } from "react";
import { DocumentViewer } from "@/components/viewer/document-viewer";
import type { Citation } from "@/lib/api";
import { pageLabel, sourceName } from "@/lib/format";
import { inertOutside } from "@/lib/inert-outside";
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

/** From this width (Tailwind's `lg`) the panel sits beside the chat; below it covers the screen. */
const SIDE_BY_SIDE = "(min-width: 64rem)";

/** Whether the panel covers the whole screen (phones, narrow windows), following resizes. */
function useCoversScreen(): boolean {
  const [covers, setCovers] = useState(() => !window.matchMedia(SIDE_BY_SIDE).matches);
  useEffect(() => {
    const query = window.matchMedia(SIDE_BY_SIDE);
    const update = () => setCovers(!query.matches);
    query.addEventListener("change", update);
    return () => query.removeEventListener("change", update);
  }, []);
  return covers;
}

/**
 * The cited passage and the document itself at the cited page: a side panel on a desktop, a
 * modal covering the screen on a phone (the page behind it is inert, so Tab stays inside).
 * Closing it returns the focus to the control that opened it.
 */
export function SourcePanel({ citation, onClose }: SourcePanelProps) {
  const panelRef = useRef<HTMLElement>(null);
  const headingRef = useRef<HTMLHeadingElement>(null);
  const openerRef = useRef<HTMLElement | null>(null);
  const coversScreen = useCoversScreen();
  const page = pageLabel(citation);
  const target = citationTarget(citation);

  // Declared before the focus effects: on close, the page is un-inerted before the opener is focused.
  useEffect(() => {
    if (!coversScreen || !panelRef.current) return;
    return inertOutside(panelRef.current);
  }, [coversScreen]);

  useEffect(() => {
    const focused = document.activeElement;
    if (focused instanceof HTMLElement && focused !== document.body && !panelRef.current?.contains(focused)) {
      openerRef.current = focused;
    }
    headingRef.current?.focus();
  }, [citation]);

  useEffect(
    () => () => {
      const opener = openerRef.current;
      if (opener?.isConnected) opener.focus();
    },
    [],
  );

  useEffect(() => {
    const onKeyDown = (event: KeyboardEvent) => {
      // Not an Escape that closed something else first (the scope picker, the account menu).
      if (event.key === "Escape" && !event.defaultPrevented) onClose();
    };
    document.addEventListener("keydown", onKeyDown);
    return () => document.removeEventListener("keydown", onKeyDown);
  }, [onClose]);

  return (
    <aside
      ref={panelRef}
      role={coversScreen ? "dialog" : undefined}
      aria-modal={coversScreen || undefined}
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
