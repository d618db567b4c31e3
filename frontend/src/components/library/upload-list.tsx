"use client";

import { ProgressBar } from "@/components/ui/progress-bar";
import { formatBytes } from "@/lib/format";
import { uploadPercent, type UploadItem } from "@/lib/upload";

type UploadListProps = {
  items: UploadItem[];
  /** The status of an uploaded document, when the library has it loaded. */
  documentStatus?: (documentId: string) => string | undefined;
  onCancel: (key: string) => void;
  onDismiss: (key: string) => void;
  onClearFinished: () => void;
};

function uploadStatusText(item: UploadItem): string {
  switch (item.status) {
    case "waiting":
      return "Waiting…";
    case "uploading":
      return uploadPercent(item) >= 100 ? "Finishing upload…" : `Uploading ${uploadPercent(item)}%`;
    case "done":
      return "Uploaded";
    case "error":
      return item.error ?? "Upload failed.";
  }
}

/** One row per file being sent, with its own progress bar. */
export function UploadList({ items, documentStatus, onCancel, onDismiss, onClearFinished }: UploadListProps) {
  if (items.length === 0) return null;
  const hasFinished = items.some((item) => item.status === "done");
  return (
    <section aria-labelledby="uploads-heading" className="card p-4">
      <div className="flex items-center justify-between">
        <h2 id="uploads-heading" className="text-sm font-semibold text-slate-900">
          Uploads
        </h2>
        {hasFinished ? (
          <button type="button" className="btn-ghost" onClick={onClearFinished}>
            Clear finished
          </button>
        ) : null}
      </div>
      <ul className="mt-3 space-y-3">
        {items.map((item) => (
          <li key={item.key} className="text-sm" data-testid="upload-item">
            <div className="flex items-center justify-between gap-3">
              <span className="min-w-0 flex-1 truncate font-medium text-slate-800" title={item.name}>
                {item.name}
              </span>
              <span className="shrink-0 text-xs text-slate-600">{formatBytes(item.size)}</span>
              {item.status === "waiting" || item.status === "uploading" ? (
                <button type="button" className="btn-ghost" onClick={() => onCancel(item.key)}>
                  Cancel<span className="sr-only"> upload of {item.name}</span>
                </button>
              ) : (
                <button type="button" className="btn-ghost" onClick={() => onDismiss(item.key)}>
                  Dismiss<span className="sr-only"> {item.name}</span>
                </button>
              )}
            </div>
            {item.status === "error" ? (
              <p className="mt-1 text-xs text-red-700" role="alert">
                {uploadStatusText(item)}
              </p>
            ) : item.status === "done" ? (
              // Sent: the bar's job is over; what happens next is the document's (it may fail to process).
              <p className="mt-1 text-xs text-slate-600" data-testid="upload-done">
                {item.documentId && documentStatus?.(item.documentId) === "failed"
                  ? "Uploaded, but it could not be processed: see the library below."
                  : "Uploaded"}
              </p>
            ) : (
              <div className="mt-1.5 flex items-center gap-3">
                <ProgressBar value={uploadPercent(item)} label={`Upload of ${item.name}`} />
                <span className="w-28 shrink-0 text-right text-xs text-slate-600">{uploadStatusText(item)}</span>
              </div>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
