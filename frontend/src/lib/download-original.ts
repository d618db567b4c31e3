import { api } from "@/lib/api";
import { apiErrorFromResponse } from "@/lib/api/errors";
import { documentsApi } from "@/lib/api/endpoints";

const BLOB_LIFETIME_MS = 60_000;

/**
 * Saves a document's original file. It is fetched with the Authorization header and handed
 * to the browser as a download, never rendered on this origin (an uploaded HTML file could
 * otherwise run script with the user's session).
 */
export async function downloadOriginal(document: { id: string; filename: string }): Promise<void> {
  await saveDownload(documentsApi.fileUrl(document.id), document.filename);
}

/** Fetches an API file with the Authorization header and saves it as `filename`. */
export async function saveDownload(apiUrl: string, filename: string): Promise<void> {
  const response = await api.authorizedFetch(apiUrl);
  if (!response.ok) throw await apiErrorFromResponse(response);
  const bytes = await response.blob();
  saveBlob(new Blob([bytes], { type: "application/octet-stream" }), filename);
}

/** Hands a blob to the browser as a download named `filename` (also the audit log's CSV export). */
export function saveBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  window.setTimeout(() => URL.revokeObjectURL(url), BLOB_LIFETIME_MS);
  const link = window.document.createElement("a");
  link.href = url;
  link.download = filename;
  link.rel = "noopener";
  link.click();
}
