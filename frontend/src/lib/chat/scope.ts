import type { CollectionOut } from "@/lib/api/teams-contract";
import { pluralize } from "@/lib/format";

/** What a chat searches: everything the user can read, one collection, or chosen documents. */
export type ChatScope = { kind: "all" } | { kind: "collection"; collectionId: string } | { kind: "documents"; documentIds: string[] };

export const ALL_DOCUMENTS: ChatScope = { kind: "all" };

/** The scope a stored chat remembers (a collection wins over a list of documents). */
export function scopeOfChat(chat: { collection_id?: string | null; document_ids: string[] | null }): ChatScope {
  if (chat.collection_id) return { kind: "collection", collectionId: chat.collection_id };
  if (chat.document_ids && chat.document_ids.length > 0) return { kind: "documents", documentIds: chat.document_ids };
  return ALL_DOCUMENTS;
}

/** The fields of ChatCreate / ChatUpdate / MessageIn that set a scope; null clears the other one. */
export function scopeFields(scope: ChatScope): { collection_id: string | null; document_ids: string[] | null } {
  switch (scope.kind) {
    case "all":
      return { collection_id: null, document_ids: null };
    case "collection":
      return { collection_id: scope.collectionId, document_ids: null };
    case "documents":
      return scope.documentIds.length > 0 ? { collection_id: null, document_ids: scope.documentIds } : { collection_id: null, document_ids: null };
  }
}

/** The scope in a few words, for the picker's button. */
export function scopeSummary(scope: ChatScope, collections: Pick<CollectionOut, "id" | "name">[] | undefined): string {
  switch (scope.kind) {
    case "all":
      return "All documents";
    case "collection":
      return collections?.find((collection) => collection.id === scope.collectionId)?.name ?? "A collection";
    case "documents":
      return scope.documentIds.length === 0 ? "All documents" : pluralize(scope.documentIds.length, "document");
  }
}
