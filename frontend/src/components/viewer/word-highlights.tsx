"use client";

import { useEffect, useRef } from "react";
import type { WordBox } from "@/lib/api";

type Box = { left: number; top: number; right: number; bottom: number; text: string };

/** The boxes of the words that overlap the marked ranges, one box per run of words on a line. */
export function markedBoxes(words: WordBox[], marks: [number, number][], text: string): Box[] {
  const boxes: Box[] = [];
  let previous: WordBox | null = null;
  for (const word of words) {
    const marked = marks.some(([start, end]) => word.start < end && start < word.end);
    if (!marked) {
      previous = null;
      continue;
    }
    const last = boxes[boxes.length - 1];
    const sameLine =
      last && previous && Math.min(last.bottom, word.bottom) - Math.max(last.top, word.top) > 0.5 * (word.bottom - word.top);
    const wordText = text.slice(word.start, word.end);
    if (last && sameLine) {
      last.left = Math.min(last.left, word.left);
      last.top = Math.min(last.top, word.top);
      last.right = Math.max(last.right, word.right);
      last.bottom = Math.max(last.bottom, word.bottom);
      last.text += ` ${wordText}`;
    } else {
      boxes.push({ left: word.left, top: word.top, right: word.right, bottom: word.bottom, text: wordText });
    }
    previous = word;
  }
  return boxes;
}

type WordHighlightsProps = {
  words: WordBox[];
  marks: [number, number][];
  /** The page text the words' offsets index. */
  text: string;
};

/**
 * The cited sentence marked on a page image (a scanned PDF page, an image document): boxes
 * over the words OCR read there, laid over the page at any zoom (positions are fractions).
 */
export function WordHighlights({ words, marks, text }: WordHighlightsProps) {
  const layerRef = useRef<HTMLDivElement>(null);
  const boxes = markedBoxes(words, marks, text);
  const key = boxes.map((box) => `${box.left},${box.top}`).join(";");
  useEffect(() => {
    layerRef.current?.querySelector("mark")?.scrollIntoView({ block: "center" });
  }, [key]);
  return (
    <div ref={layerRef} className="pointer-events-none absolute inset-0" data-testid="ocr-highlights">
      {boxes.map((box, index) => (
        <mark
          key={index}
          className="ocr-highlight absolute rounded-sm"
          data-testid="ocr-highlight"
          style={{
            left: `${box.left * 100}%`,
            top: `${box.top * 100}%`,
            width: `${(box.right - box.left) * 100}%`,
            height: `${(box.bottom - box.top) * 100}%`,
          }}
        >
          <span className="sr-only">{box.text}</span>
        </mark>
      ))}
    </div>
  );
}
