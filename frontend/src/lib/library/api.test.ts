import { describe, expect, it } from "vitest";
import { addedQuery, DEFAULT_FILTERS, filterBody, folderOf, isFiltered, recentRange } from "./api";

function fileAt(path: string, field: "webkitRelativePath" | "path" | "relativePath"): File {
  const name = path.split("/").pop() ?? path;
  const file = new File(["x"], name);
  Object.defineProperty(file, field, { value: path });
  return file;
}

describe("folderOf", () => {
  it("keeps the picked folder and its subfolders, without the file name", () => {
    expect(folderOf(fileAt("reports/2024/q1.pdf", "webkitRelativePath"))).toBe("reports/2024");
  });
  it("reads the path react-dropzone gives a dropped folder's files", () => {
    expect(folderOf(fileAt("/reports/q1.pdf", "path"))).toBe("reports");
    expect(folderOf(fileAt("./reports/a/q1.pdf", "relativePath"))).toBe("reports/a");
  });
  it("is null for a file picked or dropped alone", () => {
    expect(folderOf(new File(["x"], "alone.pdf"))).toBeNull();
    expect(folderOf(fileAt("./alone.pdf", "path"))).toBeNull();
  });
});

describe("filterBody", () => {
  it("selects what the list shows: the same search, status, type and folder", () => {
    const body = filterBody({ ...DEFAULT_FILTERS, q: "  invoice ", status: "failed", kind: "pdf", folder: "reports", sort: "name" });
    expect(body).toEqual({
      q: "invoice",
      status: ["failed"],
      kind: ["pdf"],
      folder: "reports",
      collection_id: null,
      created_from: null,
      created_to: null,
      owned: false,
    });
  });
  it("selects every document without filters", () => {
    expect(filterBody(DEFAULT_FILTERS)).toEqual({
      q: null,
      status: [],
      kind: [],
      folder: null,
      collection_id: null,
      created_from: null,
      created_to: null,
      owned: false,
    });
  });
  it("keeps the collection shown and the date range, so a bulk delete touches only what is listed", () => {
    const body = filterBody({ ...DEFAULT_FILTERS, collectionId: "c1", added: { kind: "custom", from: "2025-06-01", to: "2025-06-30" } });
    expect(body).toMatchObject({
      collection_id: "c1",
      created_from: new Date(2025, 5, 1).toISOString(),
      created_to: new Date(2025, 6, 1).toISOString(),
    });
  });
});

describe("addedQuery", () => {
  it("sends nothing for any time", () => {
    expect(addedQuery({ kind: "any" })).toEqual({});
  });
  it("includes the To day: the bound sent is the start of the next (local) day", () => {
    expect(addedQuery({ kind: "custom", from: "2025-06-01", to: "2025-06-30" })).toEqual({
      created_from: new Date(2025, 5, 1, 0, 0, 0).toISOString(),
      created_to: new Date(2025, 6, 1, 0, 0, 0).toISOString(),
    });
    // Across the end of a month and of a year.
    expect(addedQuery({ kind: "custom", from: "", to: "2025-12-31" })).toEqual({ created_to: new Date(2026, 0, 1).toISOString() });
    // One day: from its start to the next day's.
    expect(addedQuery({ kind: "custom", from: "2024-02-29", to: "2024-02-29" })).toEqual({
      created_from: new Date(2024, 1, 29).toISOString(),
      created_to: new Date(2024, 2, 1).toISOString(),
    });
  });
  it("leaves an open end open, and ignores a half-typed date", () => {
    expect(addedQuery({ kind: "custom", from: "2025-06-01", to: "" })).toEqual({ created_from: new Date(2025, 5, 1).toISOString() });
    expect(addedQuery({ kind: "custom", from: "", to: "" })).toEqual({});
    expect(addedQuery({ kind: "custom", from: "2025-6-1", to: "" })).toEqual({});
  });
  it("counts the last days and months back from the moment they are picked", () => {
    const now = new Date(2026, 10, 30, 15, 30);
    expect(addedQuery(recentRange("7d", now))).toEqual({ created_from: new Date(2026, 10, 23, 15, 30).toISOString() });
    expect(addedQuery(recentRange("30d", now))).toEqual({ created_from: new Date(2026, 9, 31, 15, 30).toISOString() });
    expect(addedQuery(recentRange("12m", now))).toEqual({ created_from: new Date(2025, 10, 30, 15, 30).toISOString() });
  });
  it("counts as a filter (an empty list then offers to show every document)", () => {
    expect(isFiltered(DEFAULT_FILTERS)).toBe(false);
    expect(isFiltered({ ...DEFAULT_FILTERS, collectionId: "c1" })).toBe(false);
    expect(isFiltered({ ...DEFAULT_FILTERS, added: recentRange("7d") })).toBe(true);
  });
});
