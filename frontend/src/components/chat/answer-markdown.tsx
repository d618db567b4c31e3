"use client";

import type { Element } from "hast";
import { createContext, memo, useContext, useMemo } from "react";
import ReactMarkdown, { type Components } from "react-markdown";
import rehypeSanitize, { defaultSchema } from "rehype-sanitize";
import remarkGfm from "remark-gfm";
import type { Citation } from "@/lib/api";
import { citationNumberOf, rehypeCitationMarkers } from "@/lib/citations";
import { pageLabel } from "@/lib/format";
import { remarkDropEmptyListItems } from "@/lib/markdown";

/**
 * The sanitiser's schema: GitHub's defaults (no script, style, iframe, event handlers or
 * javascript: URLs), minus images (an answer has no reason to load remote pixels, and they
 * would be blocked by the CSP anyway).
 */
const sanitizeSchema = {
  ...defaultSchema,
  tagNames: (defaultSchema.tagNames ?? []).filter((tag) => tag !== "img"),
};

type AnswerMarkdownProps = {
  text: string;
  sources: Citation[];
  onCite: (citation: Citation) => void;
};

type CitationLookup = { byNumber: ReadonlyMap<number, Citation>; onCite: (citation: Citation) => void };

const CitationContext = createContext<CitationLookup>({ byNumber: new Map(), onCite: () => {} });

/** A `[n]` marker as a button that opens source n (created by rehypeCitationMarkers). */
function CitationButton({ node }: { node?: Element }) {
  const { byNumber, onCite } = useContext(CitationContext);
  const n = citationNumberOf(node);
  const citation = n === null ? undefined : byNumber.get(n);
  if (!citation) return null;
  const page = pageLabel(citation);
  const deleted = citation.source_deleted === true;
  return (
    <button
      type="button"
      className={`citation-marker mx-0.5 inline-flex h-5 min-w-5 -translate-y-0.5 items-center justify-center rounded-full px-1.5 align-baseline text-[0.7rem] font-semibold ${
        deleted ? "bg-slate-200 text-slate-700 line-through hover:bg-slate-300" : "bg-blue-100 text-blue-900 hover:bg-blue-200"
      }`}
      aria-label={deleted ? `Source ${citation.n}: source deleted` : `Source ${citation.n}: ${citation.filename}, ${page}`}
      title={deleted ? "Source deleted" : undefined}
      data-citation={citation.n}
      data-source-deleted={deleted || undefined}
      onClick={() => onCite(citation)}
    >
      {citation.n}
    </button>
  );
}

/**
 * The same components on every render: a marker button stays the same element while the
 * answer streams or the chat around it changes, so the keyboard focus on it is not lost
 * (and the source panel can give it back).
 */
const COMPONENTS: Components = {
  button: CitationButton,
  a: ({ node: _node, href, children, ...props }) => (
    <a {...props} href={href} target="_blank" rel="noopener noreferrer nofollow">
      {children}
    </a>
  ),
};

/**
 * An answer rendered as markdown, safely: raw HTML is not interpreted (no rehype-raw), the
 * tree is sanitised, and `[n]` markers become buttons that open source n.
 */
export const AnswerMarkdown = memo(function AnswerMarkdown({ text, sources, onCite }: AnswerMarkdownProps) {
  const byNumber = useMemo(() => new Map(sources.map((source) => [source.n, source])), [sources]);
  const known = useMemo(() => new Set(byNumber.keys()), [byNumber]);
  const lookup = useMemo(() => ({ byNumber, onCite }), [byNumber, onCite]);

  return (
    <div className="prose-answer">
      <CitationContext value={lookup}>
        <ReactMarkdown
          remarkPlugins={[remarkGfm, remarkDropEmptyListItems]}
          rehypePlugins={[[rehypeSanitize, sanitizeSchema], [rehypeCitationMarkers, { known }]]}
          components={COMPONENTS}
        >
          {text}
        </ReactMarkdown>
      </CitationContext>
    </div>
  );
});
