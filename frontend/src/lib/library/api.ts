import { dataOf } from "@/lib/api/client";
import { api } from "@/lib/api";
import type { components } from "@/lib/api/schema";
import type { SharedDocument } from "@/lib/api/teams-contract";

type Schemas = components["schemas"];
export type StatusCounts = Schemas["StatusCountsOut"];
export type BulkAction = Schemas["BulkActionOut"];
export type BulkActionBody = Schemas["BulkActionIn"];
export type LibrarySort = Schemas["LibrarySort"];
export type DocumentStatus = SharedDocument["status"];

export type RecentPreset = "7d" | "30d" | "12m";

/**
 * When the documents were added: any time; since a moment (a "last N days" choice, fixed when
 * it is picked so the list does not move under the reader); or between two local days
 * ("2025-06-01"), both included, either one left open when empty.
 */
export type AddedRange =
  | { kind: "any" }
  | { kind: "recent"; preset: RecentPreset; since: string }
  | { kind: "custom"; from: string; to: string };

/** What the library shows: the list's filters and sort (the query parameters of `GET /documents`). */
export type LibraryFilters = {
  q: string;
  status: DocumentStatus | null;
  kind: string | null;
  folder: string | null;
  added: AddedRange;
  /** A collection's page: only its documents. */
  collectionId: string | null;
  sort: LibrarySort;
  order: "asc" | "desc";
};

export const DEFAULT_FILTERS: LibraryFilters = {
  q: "",
  status: null,
  kind: null,
  folder: null,
  added: { kind: "any" },
  collectionId: null,
  sort: "date",
  order: "desc",
};

/** Every document of the list (a collection's page keeps its collection). */
export function clearedFilters(filters: LibraryFilters): LibraryFilters {
  return { ...DEFAULT_FILTERS, collectionId: filters.collectionId };
}

/** Whether the list shows less than all the documents it could (the empty list then says "no match"). */
export function isFiltered(filters: LibraryFilters): boolean {
  return (
    filters.q.trim() !== "" || filters.status !== null || filters.kind !== null || filters.folder !== null || filters.added.kind !== "any"
  );
}

/** "Last 7 days" and the like: from this moment back. */
export function recentRange(preset: RecentPreset, now: Date = new Date()): AddedRange {
  const since = new Date(now);
  if (preset === "12m") since.setMonth(since.getMonth() - 12);
  else since.setDate(since.getDate() - (preset === "7d" ? 7 : 30));
  return { kind: "recent", preset, since: since.toISOString() };
}

/** The start of a local day ("2025-06-30", as a date input gives it), `laterDays` after it, as an instant. */
function startOfDay(day: string, laterDays = 0): string | undefined {
  const match = /^(\d{4,})-(\d{2})-(\d{2})$/.exec(day);
  if (!match) return undefined;
  const start = new Date(0);
  start.setFullYear(Number(match[1]), Number(match[2]) - 1, Number(match[3]) + laterDays);
  start.setHours(0, 0, 0, 0);
  return start.toISOString();
}

/** The added-between bounds of `GET /documents`: `created_from` ≤ added < `created_to` (the "To" day is included). */
export function addedQuery(added: AddedRange): { created_from?: string; created_to?: string } {
  if (added.kind === "recent") return { created_from: added.since };
  if (added.kind === "any") return {};
  const from = startOfDay(added.from);
  const to = startOfDay(added.to, 1);
  return { ...(from ? { created_from: from } : {}), ...(to ? { created_to: to } : {}) };
}

/** Documents per request: the list is virtualised, pages load as it scrolls. */
export const LIBRARY_PAGE_SIZE = 100;

function filterQuery(filters: LibraryFilters) {
  return {
    q: filters.q.trim() || undefined,
    status: filters.status ?? undefined,
    kind: filters.kind ?? undefined,
    folder: filters.folder ?? undefined,
    collection_id: filters.collectionId ?? undefined,
    ...addedQuery(filters.added),
  };
}

/** The filters as a bulk action's selection ("select all" covers what the list shows). */
export function filterBody(filters: LibraryFilters): NonNullable<BulkActionBody["filter"]> {
  const query = filterQuery(filters);
  return {
    q: query.q ?? null,
    status: filters.status ? [filters.status] : [],
    kind: filters.kind ? [filters.kind as Schemas["DocumentKind"]] : [],
    folder: query.folder ?? null,
    collection_id: query.collection_id ?? null,
    created_from: query.created_from ?? null,
    created_to: query.created_to ?? null,
    owned: false,
  };
}

export type LibraryPage = { documents: SharedDocument[]; nextCursor: string | null };

export const libraryApi = {
  async page(filters: LibraryFilters, cursor: string | null): Promise<LibraryPage> {
    const { data, response } = await api.http.GET("/api/v1/documents", {
      params: {
        query: {
          ...filterQuery(filters),
          sort: filters.sort,
          order: filters.order,
          limit: LIBRARY_PAGE_SIZE,
          ...(cursor ? { cursor } : {}),
        },
      },
    });
    return { documents: (data ?? []) as SharedDocument[], nextCursor: response.headers.get("X-Next-Cursor") };
  },
  counts: (filters: LibraryFilters) =>
    dataOf<StatusCounts>(api.http.GET("/api/v1/documents/counts", { params: { query: { ...filterQuery(filters), status: undefined } } })),
  startBulk: (body: BulkActionBody) => dataOf<BulkAction>(api.http.POST("/api/v1/documents/bulk", { body })),
  bulk: (id: string) => dataOf<BulkAction>(api.http.GET("/api/v1/documents/bulk/{bulk_id}", { params: { path: { bulk_id: id } } })),
};

/** The folder a picked or dropped file came from, relative to what was picked ("reports/2024"); null at its top. */
export function folderOf(file: File): string | null {
  const withPath = file as File & { path?: string; relativePath?: string };
  const raw = file.webkitRelativePath || withPath.relativePath || withPath.path || "";
  const parts = raw.replace(/^\.?\//, "").split("/").filter(Boolean);
  return parts.length > 1 ? parts.slice(0, -1).join("/") : null;
}
