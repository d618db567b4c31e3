import createClient from "openapi-fetch";
import { dataOf, requestInit, throwApiErrors } from "./client";
import { apiErrorFromResponse } from "./errors";
import { api } from "./index";
import type {
  AdminSettings,
  AdminUserOut,
  AdminUserUpdateBody,
  AuditEventOut,
  AuditFilters,
  CollectionCreateBody,
  CollectionOut,
  CollectionUpdateBody,
  GroupOut,
  InviteCreateBody,
  InviteCreatedOut,
  InviteOut,
  MemberOut,
  MemberPutBody,
  SharedDocument,
  TeamsPaths,
  UserRef,
} from "./teams-contract";

/**
 * The calls of collections, sharing, groups and the admin console, with the session's token
 * (renewed on a 401) and ApiError on failure, like `api.http`. Typed by the hand-written
 * TeamsPaths until the generated client has these routes (then: `const teamsHttp = api.http`).
 */
const teamsHttp = createClient<TeamsPaths>({
  baseUrl: api.baseUrl,
  headers: { Accept: "application/json" },
  fetch: async (request) => api.authorizedFetch(request.url, await requestInit(request)),
});
teamsHttp.use(throwApiErrors);

/** Every document the user may read (theirs and shared with them), with its owner and the user's role. */
export const readableDocumentsApi = {
  list: () => dataOf<SharedDocument[]>(teamsHttp.GET("/api/v1/documents")),
};

const collection = (id: string) => ({ path: { collection_id: id } });
const group = (id: string) => ({ path: { group_id: id } });

export const collectionsApi = {
  list: () => dataOf<CollectionOut[]>(teamsHttp.GET("/api/v1/collections")),
  create: (body: CollectionCreateBody) => dataOf<CollectionOut>(teamsHttp.POST("/api/v1/collections", { body })),
  update: (id: string, body: CollectionUpdateBody) =>
    dataOf<CollectionOut>(teamsHttp.PATCH("/api/v1/collections/{collection_id}", { params: collection(id), body })),
  remove: (id: string) => dataOf<undefined>(teamsHttp.DELETE("/api/v1/collections/{collection_id}", { params: collection(id) })),
  documents: (id: string) =>
    dataOf<SharedDocument[]>(teamsHttp.GET("/api/v1/collections/{collection_id}/documents", { params: collection(id) })),
  addDocuments: (id: string, documentIds: string[]) =>
    dataOf<undefined>(
      teamsHttp.POST("/api/v1/collections/{collection_id}/documents", { params: collection(id), body: { document_ids: documentIds } }),
    ),
  removeDocuments: (id: string, documentIds: string[]) =>
    dataOf<undefined>(
      teamsHttp.DELETE("/api/v1/collections/{collection_id}/documents", { params: collection(id), body: { document_ids: documentIds } }),
    ),
  members: (id: string) => dataOf<MemberOut[]>(teamsHttp.GET("/api/v1/collections/{collection_id}/members", { params: collection(id) })),
  share: (id: string, body: MemberPutBody) =>
    dataOf<MemberOut>(teamsHttp.PUT("/api/v1/collections/{collection_id}/members", { params: collection(id), body })),
  unshare: (id: string, memberId: string) =>
    dataOf<undefined>(
      teamsHttp.DELETE("/api/v1/collections/{collection_id}/members/{member_id}", {
        params: { path: { collection_id: id, member_id: memberId } },
      }),
    ),
};

export const groupsApi = {
  list: () => dataOf<GroupOut[]>(teamsHttp.GET("/api/v1/groups")),
  create: (name: string) => dataOf<GroupOut>(teamsHttp.POST("/api/v1/groups", { body: { name } })),
  rename: (id: string, name: string) => dataOf<GroupOut>(teamsHttp.PATCH("/api/v1/groups/{group_id}", { params: group(id), body: { name } })),
  remove: (id: string) => dataOf<undefined>(teamsHttp.DELETE("/api/v1/groups/{group_id}", { params: group(id) })),
  members: (id: string) => dataOf<UserRef[]>(teamsHttp.GET("/api/v1/groups/{group_id}/members", { params: group(id) })),
  addMember: (id: string, email: string) =>
    dataOf<undefined>(teamsHttp.PUT("/api/v1/groups/{group_id}/members", { params: group(id), body: { email } })),
  /** Removes a member (owner), or leaves the group (a member removing themself). */
  removeMember: (id: string, userId: string) =>
    dataOf<undefined>(
      teamsHttp.DELETE("/api/v1/groups/{group_id}/members/{user_id}", { params: { path: { group_id: id, user_id: userId } } }),
    ),
};

/** The filters that are set, as query parameters (empty ones are left out). */
export function auditQuery(filters: AuditFilters): AuditFilters {
  return Object.fromEntries(Object.entries(filters).filter(([, value]) => typeof value === "string" && value.trim() !== ""));
}

export const adminApi = {
  users: (q: string) => dataOf<AdminUserOut[]>(teamsHttp.GET("/api/v1/admin/users", { params: { query: q.trim() ? { q: q.trim() } : {} } })),
  updateUser: (id: string, body: AdminUserUpdateBody) =>
    dataOf<AdminUserOut>(teamsHttp.PATCH("/api/v1/admin/users/{user_id}", { params: { path: { user_id: id } }, body })),
  deleteUser: (id: string) => dataOf<undefined>(teamsHttp.DELETE("/api/v1/admin/users/{user_id}", { params: { path: { user_id: id } } })),
  settings: () => dataOf<AdminSettings>(teamsHttp.GET("/api/v1/admin/settings")),
  updateSettings: (body: AdminSettings) => dataOf<AdminSettings>(teamsHttp.PUT("/api/v1/admin/settings", { body })),
  invites: () => dataOf<InviteOut[]>(teamsHttp.GET("/api/v1/admin/invites")),
  createInvite: (body: InviteCreateBody) => dataOf<InviteCreatedOut>(teamsHttp.POST("/api/v1/admin/invites", { body })),
  revokeInvite: (id: string) =>
    dataOf<undefined>(teamsHttp.DELETE("/api/v1/admin/invites/{invite_id}", { params: { path: { invite_id: id } } })),
  audit: (filters: AuditFilters) => dataOf<AuditEventOut[]>(teamsHttp.GET("/api/v1/admin/audit", { params: { query: auditQuery(filters) } })),
  /** The audit log as CSV (same filters), fetched with the session's token. */
  async auditCsv(filters: AuditFilters): Promise<Blob> {
    const query = new URLSearchParams(auditQuery(filters) as Record<string, string>).toString();
    const response = await api.authorizedFetch(`${api.baseUrl}/api/v1/admin/audit.csv${query ? `?${query}` : ""}`, {
      headers: { Accept: "text/csv" },
    });
    if (!response.ok) throw await apiErrorFromResponse(response);
    return response.blob();
  },
};
