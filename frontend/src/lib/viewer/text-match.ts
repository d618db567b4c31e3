/**
 * Finding a passage in text that was extracted differently: pdf.js's text layer and
 * DocChat's stored page text split lines, space words, join hyphenated words and spell
 * ligatures differently. Both sides are compared on letters and digits only, lower case,
 * after Unicode compatibility normalisation ("ﬁ" is "fi").
 */

/** A piece of one item of text: `items[item].slice(start, end)`. */
export type ItemRange = { item: number; start: number; end: number };

type Stream = { chars: string; item: number[]; offset: number[] };

const WORD_CHAR = /[\p{L}\p{N}]/u;

function normalisedStream(items: readonly string[]): Stream {
  const stream: Stream = { chars: "", item: [], offset: [] };
  const pieces: string[] = [];
  items.forEach((text, itemIndex) => {
    let offset = 0;
    for (const char of text) {
      for (const normal of char.normalize("NFKC").toLowerCase()) {
        if (!WORD_CHAR.test(normal)) continue;
        pieces.push(normal);
        stream.item.push(itemIndex);
        stream.offset.push(offset);
      }
      offset += char.length;
    }
  });
  stream.chars = pieces.join("");
  return stream;
}

function normalised(text: string): string {
  return normalisedStream([text]).chars;
}

/** Where `needle` is in the concatenation of `items`, as one range per item it covers. */
export function findInItems(items: readonly string[], needle: string): ItemRange[] {
  const stream = normalisedStream(items);
  const target = normalised(needle);
  if (!target) return [];
  let from = stream.chars.indexOf(target);
  let to = from + target.length;
  if (from < 0) {
    // OCR and extraction differ in places: when one half of the passage is found as it is,
    // mark the passage's length from there (up to the other half, when that is found too).
    const half = Math.floor(target.length / 2);
    const head = stream.chars.indexOf(target.slice(0, half));
    const tail = stream.chars.indexOf(target.slice(half), Math.max(head, 0));
    if (head >= 0 && tail >= 0 && tail - head <= 2 * target.length) {
      [from, to] = [head, tail + target.length - half];
    } else if (head >= 0) {
      [from, to] = [head, Math.min(stream.chars.length, head + target.length)];
    } else if (tail >= 0) {
      [from, to] = [Math.max(0, tail - half), tail + target.length - half];
    } else {
      return [];
    }
  }
  const ranges: ItemRange[] = [];
  for (let index = from; index < to; index += 1) {
    const item = stream.item[index]!;
    const start = stream.offset[index]!;
    const last = ranges[ranges.length - 1];
    const charLength = items[item]!.codePointAt(start)! > 0xffff ? 2 : 1;
    if (last && last.item === item) last.end = start + charLength;
    else ranges.push({ item, start, end: start + charLength });
  }
  return ranges;
}

/** Where `needle` is in `text` as [start, end), or null. */
export function findInText(text: string, needle: string): [number, number] | null {
  const ranges = findInItems([text], needle);
  const first = ranges[0];
  const last = ranges[ranges.length - 1];
  return first && last ? [first.start, last.end] : null;
}
