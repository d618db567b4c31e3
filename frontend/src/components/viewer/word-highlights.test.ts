import { describe, expect, it } from "vitest";
import type { WordBox } from "@/lib/api";
import { markedBoxes } from "./word-highlights";

// "The keeper logs. Pilots board ships\nat the buoy." as OCR boxes it: two lines.
const TEXT = "The keeper logs. Pilots board ships\nat the buoy.";
function word(text: string, left: number, top: number): WordBox {
  const start = TEXT.indexOf(text);
  return { start, end: start + text.length, left, top, right: left + 0.05, bottom: top + 0.02 };
}
const WORDS = [
  word("The", 0.1, 0.1),
  word("keeper", 0.16, 0.1),
  word("logs.", 0.22, 0.1),
  word("Pilots", 0.28, 0.1),
  word("board", 0.34, 0.1),
  word("ships", 0.4, 0.1),
  word("at", 0.1, 0.13),
  word("the", 0.16, 0.13),
  word("buoy.", 0.22, 0.13),
];

describe("markedBoxes", () => {
  it("boxes the marked words, one box per line they run over", () => {
    const start = TEXT.indexOf("Pilots");
    const boxes = markedBoxes(WORDS, [[start, TEXT.length]], TEXT).map((box) => ({
      ...box,
      right: Math.round(box.right * 100) / 100,
      bottom: Math.round(box.bottom * 100) / 100,
    }));
    expect(boxes).toEqual([
      { left: 0.28, top: 0.1, right: 0.45, bottom: 0.12, text: "Pilots board ships" },
      { left: 0.1, top: 0.13, right: 0.27, bottom: 0.15, text: "at the buoy." },
    ]);
  });

  it("boxes nothing when no word overlaps a mark", () => {
    expect(markedBoxes(WORDS, [], TEXT)).toEqual([]);
    expect(markedBoxes(WORDS, [[TEXT.length, TEXT.length + 5]], TEXT)).toEqual([]);
  });

  it("starts a new box after an unmarked word on the same line", () => {
    const keeper = TEXT.indexOf("keeper");
    const board = TEXT.indexOf("board");
    const boxes = markedBoxes(WORDS, [[keeper, keeper + 6], [board, board + 5]], TEXT);
    expect(boxes.map((box) => box.text)).toEqual(["keeper", "board"]);
  });
});
