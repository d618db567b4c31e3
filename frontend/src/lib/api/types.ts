/** Shapes of the DocChat HTTP API v1 (see docs/api.md). */

export type User = {
  id: string;
  email: string;
  full_name: string;
  created_at: string;
};

export type TokenPair = {
  access_token: string;
  refresh_token: string;
  token_type: "bearer";
  expires_in: number;
};

export type DocumentStatus = "queued" | "processing" | "ready" | "failed";
export type DocumentStage = "queued" | "parse" | "ocr" | "chunk" | "embed" | "index" | "done";

export type DocumentRecord = {
  id: string;
  filename: string;
  content_type: string;
  size_bytes: number;
  sha256: string;
  page_count: number | null;
  chunk_count: number | null;
  status: DocumentStatus;
  progress: number;
  stage: DocumentStage | null;
  error: string | null;
  /** Pages whose text was read by OCR (null: none). */
  ocr_pages?: number | null;
  /** What the owner should know about a ready document (pages OCR left out). */
  notice?: string | null;
  created_at: string;
  updated_at: string;
};

/** A span of a page's stored text (GET /documents/{id}/pages/{page}) to mark. */
export type Highlight = {
  page: number;
  start: number;
  end: number;
  text: string;
};

export type Citation = {
  n: number;
  /** docs/api.md calls ids UUID strings; the chat schema currently sends chunk ids as integers. */
  chunk_id: string | number;
  document_id: string;
  filename: string;
  content_type: string;
  /** The page where the cited sentence is printed (absent in answers stored before it existed). */
  page?: number | null;
  page_start: number | null;
  page_end: number | null;
  highlights?: Highlight[];
  snippet: string;
  /** [start, end] of the cited sentences within the snippet. */
  snippet_highlights?: [number, number][];
  char_start: number | null;
  char_end: number | null;
  score: number;
  /** The document was deleted after the answer was written. */
  source_deleted?: boolean;
};

export type DocumentPage = {
  document_id: string;
  number: number;
  page_count: number;
  text: string;
  furniture: { start: number; end: number }[];
  /** The text was read from the page image by OCR; `words` box each word of it. */
  ocr?: boolean;
  words?: WordBox[];
};

/** A word of an OCR page: offsets into the page text, box in fractions of the page (origin top left). */
export type WordBox = { start: number; end: number; left: number; top: number; right: number; bottom: number };

export type ChunkLocation = {
  chunk_id: number;
  document_id: string;
  page: number;
  page_start: number;
  page_end: number;
  highlights: Highlight[];
};

export type Chat = {
  id: string;
  title: string | null;
  document_ids: string[] | null;
  created_at: string;
  updated_at: string;
};

export type StoredMessage = {
  id: string;
  role: "user" | "assistant";
  content: string;
  partial: boolean;
  extractive: boolean;
  search_query?: string | null;
  citations: Citation[];
  created_at: string;
};

export type ChatDetail = Chat & { messages: StoredMessage[] };

export type ApiErrorBody = {
  error: {
    code: string;
    message: string;
    request_id?: string;
    details?: { loc: (string | number)[]; message: string }[];
  };
};
