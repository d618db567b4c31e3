import { describe, expect, it } from "vitest";
import { ALL_DOCUMENTS, scopeFields, scopeOfChat, scopeSummary } from "./scope";

describe("chat scope", () => {
  it("reads the scope a chat remembers: a collection first, then chosen documents, else everything", () => {
    expect(scopeOfChat({ collection_id: "c1", document_ids: ["d1"] })).toEqual({ kind: "collection", collectionId: "c1" });
    expect(scopeOfChat({ collection_id: null, document_ids: ["d1", "d2"] })).toEqual({ kind: "documents", documentIds: ["d1", "d2"] });
    expect(scopeOfChat({ collection_id: null, document_ids: [] })).toEqual(ALL_DOCUMENTS);
    // A chat from before collections existed has no collection_id at all.
    expect(scopeOfChat({ document_ids: null })).toEqual(ALL_DOCUMENTS);
  });

  it("sends one scope and clears the other, so a chat moved to a collection forgets its documents", () => {
    expect(scopeFields({ kind: "collection", collectionId: "c1" })).toEqual({ collection_id: "c1", document_ids: null });
    expect(scopeFields({ kind: "documents", documentIds: ["d1"] })).toEqual({ collection_id: null, document_ids: ["d1"] });
    expect(scopeFields({ kind: "documents", documentIds: [] })).toEqual({ collection_id: null, document_ids: null });
    expect(scopeFields(ALL_DOCUMENTS)).toEqual({ collection_id: null, document_ids: null });
  });

  it("names the scope on the picker's button", () => {
    const collections = [{ id: "c1", name: "Contracts" }];
    expect(scopeSummary({ kind: "collection", collectionId: "c1" }, collections)).toBe("Contracts");
    expect(scopeSummary({ kind: "collection", collectionId: "gone" }, collections)).toBe("A collection");
    expect(scopeSummary({ kind: "documents", documentIds: ["d1", "d2"] }, collections)).toBe("2 documents");
    expect(scopeSummary({ kind: "documents", documentIds: [] }, collections)).toBe("All documents");
    expect(scopeSummary(ALL_DOCUMENTS, undefined)).toBe("All documents");
  });
});
