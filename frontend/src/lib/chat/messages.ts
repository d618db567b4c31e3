import type { UIMessage } from "ai";
import type { Citation, StoredMessage } from "@/lib/api/types";
import { citedNumbers } from "@/lib/citations";
import { pageLabel } from "@/lib/format";

/**
 * Payload of the `data-sources` stream part: the sources the answer's markers point to. It is
 * sent again (same part id, replacing the previous one) each time the answer cites a new source,
 * numbered as the text numbers them.
 */
export type SourcesData = { sources: Citation[]; search_query?: string; message_id?: string; user_message_id?: string };

/** Payload of the `data-citations` stream part, sent once the answer is complete. */
export type CitationsData = {
  citations: Citation[];
  message_id?: string;
  user_message_id?: string;
  extractive: boolean;
  partial: boolean;
  search_query?: string | null;
};

export type DocChatDataParts = {
  sources: SourcesData;
  citations: CitationsData;
};

/** What the API says of a stored message: its status, and the versions of its turn. */
export type MessageMeta = {
  status: StoredMessage["status"];
  error: string | null;
  version: number;
  versionIds: string[];
};

export type DocChatMessage = UIMessage<MessageMeta, DocChatDataParts>;

/** Converts messages stored by the API (GET /chats/{id}) into useChat messages. */
export function toChatMessages(stored: StoredMessage[]): DocChatMessage[] {
  return stored.map(toChatMessage);
}

export function toChatMessage(message: StoredMessage): DocChatMessage {
  const parts: DocChatMessage["parts"] = [{ type: "text", text: message.content }];
  if (message.role === "assistant") {
    parts.push({
      type: "data-citations",
      data: {
        citations: message.citations,
        message_id: message.id,
        extractive: message.extractive,
        partial: message.partial,
        search_query: message.search_query ?? null,
      },
    });
  }
  const metadata: MessageMeta = {
    status: message.status,
    error: message.error ?? null,
    version: message.version,
    versionIds: message.version_ids ?? [message.id],
  };
  return { id: message.id, role: message.role, parts, metadata };
}

export type AnswerView = {
  text: string;
  /** 'streaming' while the server writes it (also after a reload), 'failed' with `error`. */
  status: MessageMeta["status"];
  error: string | null;
  /** Sources that markers may point to: the cited ones once known, else the announced ones. */
  sources: Citation[];
  extractive: boolean;
  partial: boolean;
  complete: boolean;
  /** What was searched to answer: the question, or its rewrite when it referred back. */
  searchQuery: string | null;
};

/** Everything a message bubble needs, read from a message's parts. */
export function readMessage(message: DocChatMessage): AnswerView {
  let text = "";
  let announced: Citation[] = [];
  let searchQuery: string | null = null;
  let final: CitationsData | null = null;
  for (const part of message.parts) {
    if (part.type === "text") text += part.text;
    else if (part.type === "data-sources") {
      announced = part.data.sources;
      searchQuery = part.data.search_query ?? searchQuery;
    } else if (part.type === "data-citations") final = part.data;
  }
  // Final citations are a subset of the announced sources; keep both so no marker is lost.
  const byNumber = new Map<number, Citation>();
  for (const source of announced) byNumber.set(source.n, source);
  for (const citation of final?.citations ?? []) byNumber.set(citation.n, citation);
  return {
    text,
    status: message.metadata?.status ?? "done",
    error: message.metadata?.error ?? null,
    sources: [...byNumber.values()].sort((a, b) => a.n - b.n),
    extractive: final?.extractive ?? false,
    partial: final?.partial ?? false,
    complete: final !== null,
    searchQuery: searchQuery ?? final?.search_query ?? null,
  };
}

/** Only the sources actually cited in the text (for the list under an answer). */
export function citedSources(view: AnswerView): Citation[] {
  const used = new Set(citedNumbers(view.text));
  return view.sources.filter((source) => used.has(source.n));
}

/** An answer and the sources it cites, as plain text for the clipboard. */
export function answerWithSources(view: AnswerView): string {
  const cited = citedSources(view);
  if (cited.length === 0) return view.text;
  const lines = cited.map((source) =>
    source.source_deleted ? `[${source.n}] (source deleted)` : `[${source.n}] ${source.filename}, ${pageLabel(source)}`,
  );
  return `${view.text}\n\nSources:\n${lines.join("\n")}`;
}
