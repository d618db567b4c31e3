import { describe, expect, it } from "vitest";
import { locationNoun, pageLabel } from "./format";

describe("pageLabel", () => {
  it("names a spreadsheet passage by its sheet and rows", () => {
    expect(pageLabel({ page: 2, page_start: 2, page_end: 2, sheet: "Keepers", row_start: 21, row_end: 42 })).toBe(
      "sheet “Keepers”, rows 21–42",
    );
    expect(pageLabel({ page: 1, page_start: 1, page_end: 1, sheet: null, row_start: 7, row_end: 7 })).toBe("row 7");
  });

  it("calls a slide a slide and a chapter a chapter", () => {
    const pptx = "application/vnd.openxmlformats-officedocument.presentationml.presentation";
    expect(pageLabel({ page: 3, page_start: 3, page_end: 3, content_type: pptx })).toBe("slide 3");
    expect(pageLabel({ page: null, page_start: 1, page_end: 2, content_type: "application/epub+zip" })).toBe("chapters 1–2");
    expect(pageLabel({ page: 7, page_start: 6, page_end: 7, content_type: "application/pdf" })).toBe("page 7");
  });

  it("knows the spreadsheet types", () => {
    expect(locationNoun("text/csv")).toBe("sheet");
    expect(locationNoun("application/vnd.ms-excel")).toBe("sheet");
    expect(locationNoun("text/html; charset=utf-8")).toBe("page");
    expect(locationNoun(undefined)).toBe("page");
  });
});
