import type { Element, ElementContent, Root, RootContent, Text } from "hast";

/** Markers as the API writes them in answers: `[n]`, or a group `[n, m]` (spaces allowed inside). */
const MARKER = /\[ *(\d{1,3}(?: *, *\d{1,3})*) *\]/g;

function numbersOf(group: string): number[] {
  return group.split(",").map((n) => Number(n.trim()));
}

/** The source numbers an answer's markers cite, in the order they first appear. */
export function citedNumbers(text: string): number[] {
  const numbers = new Set<number>();
  for (const match of text.matchAll(MARKER)) for (const n of numbersOf(match[1] ?? "")) numbers.add(n);
  return [...numbers];
}

/** Tags whose text must stay literal (code samples, existing links). */
const SKIP_INSIDE = new Set(["code", "pre", "a", "button"]);

export const CITATION_PROPERTY = "dataCitation";

/**
 * Splits a text into plain strings and citation numbers (a group `[1, 2]` gives 1 and 2),
 * keeping markers with an unknown number as text.
 */
export function splitCitationMarkers(text: string, known: ReadonlySet<number>): (string | number)[] {
  const pieces: (string | number)[] = [];
  let last = 0;
  for (const match of text.matchAll(MARKER)) {
    const numbers = numbersOf(match[1] ?? "");
    if (!numbers.every((n) => known.has(n))) continue;
    const start = match.index;
    if (start > last) pieces.push(text.slice(last, start));
    pieces.push(...numbers);
    last = start + match[0].length;
  }
  if (last < text.length) pieces.push(text.slice(last));
  return pieces;
}

function markerElement(n: number): Element {
  return {
    type: "element",
    tagName: "button",
    properties: { type: "button", [CITATION_PROPERTY]: String(n) },
    children: [{ type: "text", value: String(n) }],
  };
}

function transformChildren(children: (ElementContent | RootContent)[], known: ReadonlySet<number>): void {
  for (let i = 0; i < children.length; i += 1) {
    const child = children[i];
    if (!child) continue;
    if (child.type === "element") {
      if (!SKIP_INSIDE.has(child.tagName)) transformChildren(child.children, known);
      continue;
    }
    if (child.type !== "text") continue;
    const pieces = splitCitationMarkers((child as Text).value, known);
    if (pieces.length === 1 && typeof pieces[0] === "string") continue;
    const replacement: ElementContent[] = pieces.map((piece) =>
      typeof piece === "number" ? markerElement(piece) : { type: "text", value: piece },
    );
    children.splice(i, 1, ...replacement);
    i += replacement.length - 1;
  }
}

/**
 * Rehype plugin: turns `[n]` markers that match a known source into citation buttons.
 * It runs AFTER rehype-sanitize, so the only <button> elements in an answer are the ones
 * created here (the sanitiser drops any button written in the answer text).
 */
export function rehypeCitationMarkers(options: { known: ReadonlySet<number> }) {
  return (tree: Root) => {
    transformChildren(tree.children, options.known);
  };
}

/** Reads the citation number of an element created by rehypeCitationMarkers. */
export function citationNumberOf(node: Element | undefined): number | null {
  const value = node?.properties?.[CITATION_PROPERTY];
  const n = typeof value === "string" || typeof value === "number" ? Number(value) : NaN;
  return Number.isInteger(n) ? n : null;
}
