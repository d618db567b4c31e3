import type { AdminUserOut, AuditFilters, CurrentUser, InviteCreatedOut } from "@/lib/api/teams-contract";
import { formatBytes, pluralize } from "@/lib/format";

/** The admin console is for admins (the API refuses everyone else anyway; `role` comes from /auth/me). */
export function isAdmin(user: CurrentUser | null): boolean {
  return user?.role === "admin";
}

/**
 * The absolute address of an invite. The API gives `/register?invite=…`; the static export
 * serves pages at `/register/` (trailingSlash), so the slash is added before the query.
 */
export function inviteLink(invite: Pick<InviteCreatedOut, "url_path" | "token">, origin: string): string {
  const path = invite.url_path || `/register?invite=${encodeURIComponent(invite.token)}`;
  const [pathname = "/register", query = ""] = path.split("?", 2);
  const withSlash = pathname.endsWith("/") ? pathname : `${pathname}/`;
  return `${origin}${withSlash}${query ? `?${query}` : ""}`;
}

/** A user's limits in words, each marked "(default)" when it is the server's configured one. */
export function quotaText(quota: AdminUserOut["quota"]): string {
  const storage = quota.storage_mb == null ? "unlimited storage" : `${quota.storage_mb} MB`;
  const documents = quota.documents == null ? "unlimited documents" : pluralize(quota.documents, "document");
  return `${storage}${quota.storage_mb_is_default ? " (default)" : ""} · ${documents}${quota.documents_is_default ? " (default)" : ""}`;
}

export function storageText(usage: AdminUserOut["usage"]): string {
  return formatBytes(usage.storage_bytes);
}

/** A quota's form field: blank for the configured default, 0 for "no limit" set on the user. */
export function quotaFieldValue(limit: number | null, isDefault: boolean): string {
  if (isDefault) return "";
  return String(limit ?? 0);
}

/** A quota field's value for the API: blank means "the configured default" (null), 0 no limit. */
export function parseQuota(value: string): { ok: true; value: number | null } | { ok: false; message: string } {
  const trimmed = value.trim();
  if (trimmed === "") return { ok: true, value: null };
  if (!/^\d+$/.test(trimmed)) return { ok: false, message: "Enter a whole number, or leave it blank for the default." };
  return { ok: true, value: Number(trimmed) };
}

/** The audit filters from the form: local date-times become ISO instants, blanks are left out. */
export function auditFiltersFromForm(form: { action: string; actor: string; since: string; until: string }): AuditFilters {
  const instant = (local: string) => {
    if (!local) return undefined;
    const date = new Date(local);
    return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
  };
  const filters: AuditFilters = {};
  if (form.action.trim()) filters.action = form.action.trim();
  if (form.actor.trim()) filters.actor = form.actor.trim();
  const since = instant(form.since);
  const until = instant(form.until);
  if (since) filters.since = since;
  if (until) filters.until = until;
  return filters;
}
