/** A piece of a search snippet: plain text, matched or not. */
export type SnippetPart = { text: string; match: boolean };

/**
 * Splits a snippet's text at its highlight ranges. The API counts in Unicode code points
 * (not UTF-16 units), so an emoji before a match does not shift the marks. Ranges that
 * overlap, run backwards or past the end are clipped or skipped.
 */
export function snippetParts(text: string, highlights: ReadonlyArray<readonly [number, number]>): SnippetPart[] {
  const chars = Array.from(text);
  const parts: SnippetPart[] = [];
  let at = 0;
  for (const [rawStart, rawEnd] of [...highlights].sort((a, b) => a[0] - b[0])) {
    const start = Math.max(rawStart, at);
    const end = Math.min(rawEnd, chars.length);
    if (end <= start) continue;
    if (start > at) parts.push({ text: chars.slice(at, start).join(""), match: false });
    parts.push({ text: chars.slice(start, end).join(""), match: true });
    at = end;
  }
  if (at < chars.length) parts.push({ text: chars.slice(at).join(""), match: false });
  return parts;
}
