import { api } from "@/lib/api";
import { apiErrorFromResponse } from "@/lib/api/errors";
import { documentsApi } from "@/lib/api/endpoints";

export type OriginalPresentation =
  | { kind: "pdf"; blobType: "application/pdf"; fragment: string }
  | { kind: "text"; blobType: "text/plain;charset=utf-8"; fragment: "" }
  | { kind: "download"; blobType: "application/octet-stream"; fragment: "" };

/**
 * How an original is shown. Uploaded HTML must never render on this origin (a blob: URL
 * inherits it, so a <script> in the document could read the session): HTML, Markdown and
 * text open as plain text, PDFs in the browser's viewer at the cited page, anything else
 * (Word) is downloaded.
 */
export function presentationFor(contentType: string, page: number | null): OriginalPresentation {
  const type = contentType.split(";")[0]?.trim().toLowerCase() ?? "";
  if (type === "application/pdf") {
    return { kind: "pdf", blobType: "application/pdf", fragment: `#page=${page && page > 0 ? page : 1}` };
  }
  if (type.startsWith("text/") || type === "application/xhtml+xml" || type === "application/json") {
    return { kind: "text", blobType: "text/plain;charset=utf-8", fragment: "" };
  }
  return { kind: "download", blobType: "application/octet-stream", fragment: "" };
}

const BLOB_LIFETIME_MS = 10 * 60_000;

/**
 * Opens a document's original file in a new tab (at the cited page for PDFs). The file is
 * fetched with the Authorization header, so it becomes a blob URL. The tab is opened
 * synchronously, inside the click, so popup blockers allow it; it is filled once the bytes arrive.
 */
export async function openOriginal(document: { id: string; filename: string; contentType: string; page: number | null }): Promise<void> {
  const presentation = presentationFor(document.contentType, document.page);
  const tab = presentation.kind === "download" ? null : window.open("", "_blank");
  if (tab) tab.opener = null;
  try {
    const response = await api.authorizedFetch(documentsApi.fileUrl(document.id));
    if (!response.ok) throw await apiErrorFromResponse(response);
    const bytes = await response.blob();
    const url = URL.createObjectURL(new Blob([bytes], { type: presentation.blobType }));
    window.setTimeout(() => URL.revokeObjectURL(url), BLOB_LIFETIME_MS);
    if (presentation.kind === "download") {
      const link = window.document.createElement("a");
      link.href = url;
      link.download = document.filename;
      link.rel = "noopener";
      link.click();
      return;
    }
    const target = `${url}${presentation.fragment}`;
    if (tab) tab.location.href = target;
    else window.open(target, "_blank", "noopener");
  } catch (error) {
    tab?.close();
    throw error;
  }
}
