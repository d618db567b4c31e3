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

/** What the library shows: the list's filters and sort (the query parameters of `GET /documents`). */
export type LibraryFilters = {
  q: string;
  status: DocumentStatus | null;
  kind: string | null;
  folder: string | null;
  sort: LibrarySort;
  order: "asc" | "desc";
};

export const DEFAULT_FILTERS: LibraryFilters = { q: "", status: null, kind: null, folder: null, sort: "date", order: "desc" };

/** Documents per request: the list is virtualised, pages load as it scrolls. */
export const LIBRARY_PAGE_SIZE = 100;

function filterQuery(filters: LibraryFilters) {
  return {
    q: filters.q.trim() || undefined,
    status: filters.status ?? undefined,
    kind: filters.kind ?? undefined,
    folder: filters.folder ?? undefined,
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
