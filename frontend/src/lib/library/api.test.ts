import { describe, expect, it } from "vitest";
import { DEFAULT_FILTERS, filterBody, folderOf } from "./api";

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
    expect(body).toEqual({ q: "invoice", status: ["failed"], kind: ["pdf"], folder: "reports", owned: false });
  });
  it("selects every document without filters", () => {
    expect(filterBody(DEFAULT_FILTERS)).toEqual({ q: null, status: [], kind: [], folder: null, owned: false });
  });
});
