import { describe, expect, it } from "vitest";
import type { DocumentRecord } from "@/lib/api";
import { documentStatusText } from "@/lib/format";
import { DOCUMENT_POLL_MS, documentsPollInterval } from "./use-documents";

const doc = (status: DocumentRecord["status"], extra: Partial<DocumentRecord> = {}) => ({ status, ...extra }) as DocumentRecord;

describe("document status polling", () => {
  it("polls every 1.5 s while any document is queued or processing, then stops", () => {
    expect(documentsPollInterval([doc("ready"), doc("processing")])).toBe(DOCUMENT_POLL_MS);
    expect(documentsPollInterval([doc("queued")])).toBe(1500);
    expect(documentsPollInterval([doc("ready"), doc("failed")])).toBe(false);
    expect(documentsPollInterval(undefined)).toBe(false);
  });

  it("describes progress and failures in words", () => {
    expect(documentStatusText(doc("processing", { stage: "embed", error: null }))).toBe("Computing search vectors");
    // The API's stage is a plain string: a stage this build does not know reads as "Processing".
    expect(documentStatusText(doc("processing", { stage: "transcribe", error: null }))).toBe("Processing");
    expect(documentStatusText(doc("failed", { stage: null, error: "This is a password-protected PDF." }))).toBe(
      "Failed: This is a password-protected PDF.",
    );
  });
});
