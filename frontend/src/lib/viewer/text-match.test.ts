import { describe, expect, it } from "vitest";
import { findInItems, findInText } from "./text-match";

describe("findInItems", () => {
  it("finds a sentence across text-layer items whatever their spacing and line breaks", () => {
    const items = ["The Linear Reference", " System (LRS) is con", "sidered the most viable ", "approach for managing."];
    const ranges = findInItems(items, "System (LRS) is considered\nthe most viable approach");
    expect(ranges).toEqual([
      { item: 1, start: 1, end: 20 },
      { item: 2, start: 0, end: 23 },
      { item: 3, start: 0, end: 8 },
    ]);
    const marked = ranges.map(({ item, start, end }) => items[item]!.slice(start, end)).join("|");
    expect(marked).toBe("System (LRS) is con|sidered the most viable|approach");
  });

  it("matches ligatures, case and joined hyphenation", () => {
    expect(findInItems(["The ﬁrst of-", "ﬁce"], "the first office")).toEqual([
      { item: 0, start: 0, end: 11 },
      { item: 1, start: 0, end: 3 },
    ]);
  });

  it("tolerates a few misread characters when both halves are found", () => {
    const text = "We learn from prisoners that the inhabitants are now living in caves dug out of the hills.";
    const found = findInText(text.replace("inhabitants", "inhabitauts"), "the inhabitants are now living in caves dug out of the hills");
    expect(found).not.toBeNull();
    expect(findInText(text, "nothing like this sentence at all here")).toBeNull();
  });
});
