import { describe, expect, it } from "vitest";
import { presentationFor } from "./open-original";

describe("presentationFor", () => {
  it("opens PDFs in the viewer at the cited page", () => {
    expect(presentationFor("application/pdf", 3)).toEqual({ kind: "pdf", blobType: "application/pdf", fragment: "#page=3" });
    expect(presentationFor("application/pdf", null).fragment).toBe("#page=1");
  });

  it("never renders uploaded HTML: it opens as plain text", () => {
    expect(presentationFor("text/html; charset=utf-8", 1).blobType).toBe("text/plain;charset=utf-8");
    expect(presentationFor("text/markdown", null).kind).toBe("text");
  });

  it("downloads other types (Word)", () => {
    expect(presentationFor("application/vnd.openxmlformats-officedocument.wordprocessingml.document", 1).kind).toBe("download");
  });
});
