/**
 * HAND-WRITTEN, TEMPORARY: the API of issue #16 (collections, sharing, groups, scoped chats,
 * admin console, invites, audit log) as /work/CONTRACT.md describes it, written in the shape
 * openapi-typescript generates (`paths`), because the backend branches that serve it were not
 * merged when the web app was built.
 *
 * At merge (see docs/teams.md, "For maintainers"): run `make client`, then
 *   - in teams-client.ts, use `api.http` (typed by the generated `paths`) instead of `teamsHttp`;
 *   - in types.ts, alias the names below to `components["schemas"][…]`;
 *   - delete this file. `tsc` then points at every place where the backend differs from it.
 */
import type { Chat, ChatCreateBody, ChatUpdateBody, DocumentRecord, MessageBody, RegisterBody, User } from "./types";

export type Role = "viewer" | "editor";
export type CollectionRole = "owner" | Role;

/** A person as other users see them. */
export type UserRef = { id: string; email: string; full_name: string };

export type CollectionOut = {
  id: string;
  name: string;
  description: string | null;
  owner: UserRef;
  my_role: CollectionRole;
  document_count: number;
  created_at: string;
  updated_at: string;
};
export type CollectionCreateBody = { name: string; description?: string | null };
/** `owner_email` transfers the collection (owner only). */
export type CollectionUpdateBody = { name?: string; description?: string | null; owner_email?: string };
export type DocumentIdsBody = { document_ids: string[] };

export type MemberOut = {
  id: string;
  kind: "user" | "group";
  user: UserRef | null;
  group: { id: string; name: string } | null;
  role: Role;
};
export type MemberPutBody = { email: string; role: Role } | { group_id: string; role: Role };

export type GroupOut = {
  id: string;
  name: string;
  owner: UserRef;
  my_role: "owner" | "member";
  member_count: number;
  created_at: string;
};

export type UserRole = "admin" | "member";
export type AdminUserOut = {
  id: string;
  email: string;
  full_name: string;
  role: UserRole;
  disabled: boolean;
  created_at: string;
  last_active_at: string | null;
  usage: { documents: number; storage_bytes: number; chunks: number; messages: number };
  /** The limits that apply (null: unlimited); `*_is_default` when they come from the server's configuration. */
  quota: { storage_mb: number | null; documents: number | null; storage_mb_is_default: boolean; documents_is_default: boolean };
};
export type AdminUserUpdateBody = {
  role?: UserRole;
  disabled?: boolean;
  quota_storage_mb?: number | null;
  quota_documents?: number | null;
};
export type RegistrationMode = "open" | "invite" | "closed";
export type AdminSettings = { registration_mode: RegistrationMode };
export type InviteCreateBody = { email?: string | null; expires_in_hours?: number | null };
/** The answer to creating an invite: the only time its token is shown. */
export type InviteCreatedOut = { id: string; token: string; url_path: string; email: string | null; expires_at: string };
export type InviteOut = {
  id: string;
  email: string | null;
  created_at: string;
  expires_at: string;
  used_at: string | null;
  status: "pending" | "used" | "expired";
};
export type AuditEventOut = {
  id: number;
  at: string;
  actor: { id: string; email: string | null } | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  ip: string | null;
  request_id: string | null;
  details: { [key: string]: unknown };
};
export type AuditFilters = { action?: string; actor?: string; since?: string; until?: string };

/*
 * The fields this round adds to shapes that exist already. They are optional here only so that
 * this branch keeps working against today's backend (a missing `my_role` means "owner", a
 * missing `role` "member", a missing `collection_id` "no collection"); the generated types
 * make them required at merge, and the code reading them does not change.
 */
export type DocumentSharing = { owner: UserRef; my_role: CollectionRole };
export type SharedDocument = DocumentRecord & Partial<DocumentSharing>;
export type CurrentUser = User & { role?: UserRole };
export type ScopedChat = Chat & { collection_id?: string | null };
export type ScopedChatCreateBody = ChatCreateBody & { collection_id?: string | null };
export type ScopedChatUpdateBody = ChatUpdateBody & { collection_id?: string | null };
export type ScopedMessageBody = MessageBody & { collection_id?: string | null };
export type InviteRegisterBody = RegisterBody & { invite_token?: string };

/* openapi-typescript's shapes, so that openapi-fetch types these calls as it types the rest. */
type Headers = { [name: string]: unknown };
type Json<T> = { headers: Headers; content: { "application/json": T } };
type NoContent = { headers: Headers; content?: never };
type Body<T> = { content: { "application/json": T } };
type Params<Path = never, Query = never> = { query?: Query; header?: never; cookie?: never } & ([Path] extends [never] ? { path?: never } : { path: Path });
type NoParams = { query?: never; header?: never; path?: never; cookie?: never };
type NoBody = never;
type Operation<P, B, R> = { parameters: P; responses: R } & ([B] extends [never] ? { requestBody?: never } : { requestBody: B });

type CollectionPath = { collection_id: string };
type GroupPath = { group_id: string };

export interface TeamsPaths {
  "/api/v1/documents": {
    get: Operation<
      Params<never, { collection_id?: string; owned?: boolean; limit?: number; offset?: number }>,
      NoBody,
      { 200: Json<SharedDocument[]> }
    >;
  };
  "/api/v1/collections": {
    get: Operation<Params<never, { limit?: number; offset?: number }>, NoBody, { 200: Json<CollectionOut[]> }>;
    post: Operation<NoParams, Body<CollectionCreateBody>, { 201: Json<CollectionOut> }>;
  };
  "/api/v1/collections/{collection_id}": {
    get: Operation<Params<CollectionPath>, NoBody, { 200: Json<CollectionOut> }>;
    patch: Operation<Params<CollectionPath>, Body<CollectionUpdateBody>, { 200: Json<CollectionOut> }>;
    delete: Operation<Params<CollectionPath>, NoBody, { 204: NoContent }>;
  };
  "/api/v1/collections/{collection_id}/documents": {
    get: Operation<Params<CollectionPath, { limit?: number; offset?: number }>, NoBody, { 200: Json<SharedDocument[]> }>;
    post: Operation<Params<CollectionPath>, Body<DocumentIdsBody>, { 204: NoContent }>;
    delete: Operation<Params<CollectionPath>, Body<DocumentIdsBody>, { 204: NoContent }>;
  };
  "/api/v1/collections/{collection_id}/members": {
    get: Operation<Params<CollectionPath>, NoBody, { 200: Json<MemberOut[]> }>;
    put: Operation<Params<CollectionPath>, Body<MemberPutBody>, { 200: Json<MemberOut> }>;
  };
  "/api/v1/collections/{collection_id}/members/{member_id}": {
    delete: Operation<Params<CollectionPath & { member_id: string }>, NoBody, { 204: NoContent }>;
  };
  "/api/v1/groups": {
    get: Operation<Params<never, { limit?: number; offset?: number }>, NoBody, { 200: Json<GroupOut[]> }>;
    post: Operation<NoParams, Body<{ name: string }>, { 201: Json<GroupOut> }>;
  };
  "/api/v1/groups/{group_id}": {
    patch: Operation<Params<GroupPath>, Body<{ name: string }>, { 200: Json<GroupOut> }>;
    delete: Operation<Params<GroupPath>, NoBody, { 204: NoContent }>;
  };
  "/api/v1/groups/{group_id}/members": {
    get: Operation<Params<GroupPath>, NoBody, { 200: Json<UserRef[]> }>;
    put: Operation<Params<GroupPath>, Body<{ email: string }>, { 204: NoContent }>;
  };
  "/api/v1/groups/{group_id}/members/{user_id}": {
    delete: Operation<Params<GroupPath & { user_id: string }>, NoBody, { 204: NoContent }>;
  };
  "/api/v1/admin/users": {
    get: Operation<Params<never, { q?: string; limit?: number; offset?: number }>, NoBody, { 200: Json<AdminUserOut[]> }>;
  };
  "/api/v1/admin/users/{user_id}": {
    patch: Operation<Params<{ user_id: string }>, Body<AdminUserUpdateBody>, { 200: Json<AdminUserOut> }>;
    delete: Operation<Params<{ user_id: string }>, NoBody, { 204: NoContent }>;
  };
  "/api/v1/admin/settings": {
    get: Operation<NoParams, NoBody, { 200: Json<AdminSettings> }>;
    put: Operation<NoParams, Body<AdminSettings>, { 200: Json<AdminSettings> }>;
  };
  "/api/v1/admin/invites": {
    get: Operation<Params<never, { limit?: number; offset?: number }>, NoBody, { 200: Json<InviteOut[]> }>;
    post: Operation<NoParams, Body<InviteCreateBody>, { 201: Json<InviteCreatedOut> }>;
  };
  "/api/v1/admin/invites/{invite_id}": {
    delete: Operation<Params<{ invite_id: string }>, NoBody, { 204: NoContent }>;
  };
  "/api/v1/admin/audit": {
    get: Operation<Params<never, AuditFilters & { limit?: number; offset?: number }>, NoBody, { 200: Json<AuditEventOut[]> }>;
  };
}
