import type { CollectionRole, UserRef } from "@/lib/api/teams-contract";

const ROLE_LABEL: Record<CollectionRole, string> = { owner: "Owner", editor: "Editor", viewer: "Viewer" };
const ROLE_STYLE: Record<CollectionRole, string> = {
  owner: "bg-blue-50 text-blue-900",
  editor: "bg-violet-100 text-violet-900",
  viewer: "bg-slate-100 text-slate-800",
};

/** The user's role on a collection or a shared document, as a small label. */
export function RoleBadge({ role }: { role: CollectionRole }) {
  return (
    <span className={`rounded-full px-2 py-0.5 text-xs font-medium ${ROLE_STYLE[role]}`} data-testid="role-badge">
      {ROLE_LABEL[role]}
    </span>
  );
}

export function personName(person: Pick<UserRef, "email" | "full_name">): string {
  return person.full_name.trim() || person.email;
}

/** "Shared by Ann · Viewer" on something the user does not own; nothing on their own things. */
export function SharedByBadge({ owner, role }: { owner: UserRef | undefined; role: CollectionRole | undefined }) {
  if (!owner || !role || role === "owner") return null;
  return (
    <span className="inline-flex items-center gap-1.5 text-xs text-slate-700" data-testid="shared-by">
      <span title={owner.email}>Shared by {personName(owner)}</span>
      <RoleBadge role={role} />
    </span>
  );
}
