import { render, screen } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import type { SharedDocument } from "@/lib/api/teams-contract";
import type { BulkAction } from "@/lib/library/api";
import type { UploadItem } from "@/lib/upload";
import { bulkProgressText } from "./bulk-actions-bar";
import { DocumentRow } from "./document-row";
import { splitFolderFiles } from "./upload-dropzone";
import { UploadList } from "./upload-list";

const failed = {
  id: "d1",
  filename: "locked.pdf",
  content_type: "application/pdf",
  kind: "pdf",
  folder: null,
  size_bytes: 1000,
  sha256: "x",
  page_count: null,
  chunk_count: 0,
  status: "failed",
  progress: 0,
  stage: null,
  error: "This is a password-protected PDF; remove the password and upload it again.",
  ocr_pages: null,
  notice: null,
  created_at: "2026-11-30T10:00:00Z",
  updated_at: "2026-11-30T10:00:00Z",
  retryable: false,
  my_role: "owner",
} as unknown as SharedDocument;

function row(document: SharedDocument) {
  return render(
    <ul>
      <DocumentRow document={document} onDelete={vi.fn()} onRetry={vi.fn()} retrying={false} />
    </ul>,
  );
}

describe("a failed document", () => {
  it("offers no Retry when the file itself is the problem, and says what to do", () => {
    row(failed);
    expect(screen.queryByRole("button", { name: /retry/i })).toBeNull();
    expect(screen.getByTestId("document-error").textContent).toContain("upload a fixed copy");
  });
  it("offers Retry when reindexing may help", () => {
    row({ ...failed, retryable: true, error: "Something went wrong" });
    expect(screen.getByRole("button", { name: /retry/i })).toBeTruthy();
  });
});

describe("the upload list", () => {
  const done: UploadItem = { key: "u1", name: "locked.pdf", size: 1000, loaded: 1000, status: "done", error: null, documentId: "d1" };
  it("shows no full progress bar for a sent file, and says when its document failed", () => {
    render(<UploadList items={[done]} documentStatus={() => "failed"} onCancel={vi.fn()} onDismiss={vi.fn()} onClearFinished={vi.fn()} />);
    expect(screen.queryByRole("progressbar")).toBeNull();
    expect(screen.getByTestId("upload-done").textContent).toContain("could not be processed");
  });
});

describe("a picked folder", () => {
  it("uploads the supported files and refuses the others, leaving hidden ones out", () => {
    const file = (path: string) => {
      const picked = new File(["x"], path.split("/").pop() ?? path);
      Object.defineProperty(picked, "webkitRelativePath", { value: path });
      return picked;
    };
    const { accepted, rejected } = splitFolderFiles([file("r/a.pdf"), file("r/b.exe"), file("r/.DS_Store"), file("r/.git/c.md")]);
    expect(accepted.map((f) => f.name)).toEqual(["a.pdf"]);
    expect(rejected.map((r) => r.file.name)).toEqual(["b.exe"]);
  });
});

describe("bulk progress", () => {
  const action = { id: "b", action: "delete", status: "running", total: 2000, processed: 300, succeeded: 297, denied: 3 } as BulkAction;
  it("counts what is done and what was left alone", () => {
    expect(bulkProgressText(action)).toBe("Deleting… 300 of 2,000. 3 documents left alone: only their owner can delete them.");
    expect(bulkProgressText({ ...action, status: "done", processed: 2000, succeeded: 1997 })).toContain("1,997 documents deleted.");
  });
});
