import { describe, expect, it } from "vitest";
import { snippetParts } from "./snippet";

describe("snippetParts", () => {
  it("marks the ranges and keeps the rest as text", () => {
    expect(snippetParts("the quillomere harbour", [[4, 14]])).toEqual([
      { text: "the ", match: false },
      { text: "quillomere", match: true },
      { text: " harbour", match: false },
    ]);
  });

  it("counts code points, so an emoji before a match does not shift it", () => {
    const parts = snippetParts("🚢 ferry at dawn", [[2, 7]]);
    expect(parts.find((part) => part.match)?.text).toBe("ferry");
  });

  it("clips overlapping and out-of-range highlights", () => {
    expect(snippetParts("abcdef", [[4, 99], [0, 2], [1, 3]]).map((part) => [part.text, part.match])).toEqual([
      ["ab", true],
      ["c", true],
      ["d", false],
      ["ef", true],
    ]);
  });
});
