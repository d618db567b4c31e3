"use client";

import { useEffect, useRef } from "react";

type TextPageProps = {
  text: string;
  /** [start, end) offsets into `text` to mark. */
  marks: [number, number][];
  /** Running headers, footers and page numbers, shown muted. */
  furniture: { start: number; end: number }[];
  fontScale: number;
};

type Segment = { text: string; kind: "plain" | "mark" | "furniture" };

function segments(text: string, marks: [number, number][], furniture: { start: number; end: number }[]): Segment[] {
  const kindAt = new Array<Segment["kind"]>(text.length).fill("plain");
  for (const { start, end } of furniture) kindAt.fill("furniture", Math.max(0, start), Math.min(text.length, end));
  for (const [start, end] of marks) kindAt.fill("mark", Math.max(0, start), Math.min(text.length, end));
  const result: Segment[] = [];
  for (let index = 0; index < text.length; index += 1) {
    const kind = kindAt[index]!;
    const last = result[result.length - 1];
    if (last && last.kind === kind) last.text += text[index];
    else result.push({ text: text[index]!, kind });
  }
  return result;
}

/**
 * DocChat's extracted text of a page (DOCX, HTML, Markdown, text), with the cited sentences
 * marked. Rendered as text nodes only: uploaded HTML or Markdown never becomes markup here.
 */
export function TextPage({ text, marks, furniture, fontScale }: TextPageProps) {
  const containerRef = useRef<HTMLDivElement>(null);
  const markKey = marks.map((mark) => mark.join("-")).join(",");

  useEffect(() => {
    containerRef.current?.querySelector("mark")?.scrollIntoView({ block: "center" });
  }, [text, markKey]);

  return (
    <div
      ref={containerRef}
      className="mx-auto max-w-prose whitespace-pre-wrap break-words rounded bg-white p-5 font-serif leading-relaxed text-slate-900 shadow"
      style={{ fontSize: `${fontScale}rem` }}
      data-testid="text-page"
    >
      {segments(text, marks, furniture).map((segment, index) =>
        segment.kind === "mark" ? (
          <mark key={index} className="viewer-highlight" data-testid="viewer-highlight">
            {segment.text}
          </mark>
        ) : segment.kind === "furniture" ? (
          <span key={index} className="text-slate-500">
            {segment.text}
          </span>
        ) : (
          segment.text
        ),
      )}
    </div>
  );
}
