"use client";

import Link from "next/link";
import { useId, useState, type FormEvent } from "react";
import { ErrorAlert } from "@/components/ui/alert";
import { Modal } from "@/components/ui/modal";
import { TextField } from "@/components/ui/text-field";
import { errorMessage } from "@/lib/api";
import type { CollectionOut, MemberOut, MemberPutBody, Role } from "@/lib/api/teams-contract";
import { useCollectionMembers, useMemberChanges } from "@/hooks/use-collections";
import { useGroups } from "@/hooks/use-groups";
import { personName } from "./role-badge";

export const ROLE_HELP: Record<Role, string> = {
  viewer: "Viewer: search, chat and open the originals",
  editor: "Editor: also add, remove and upload documents",
};

/** Who or what a member is, in words. */
export function memberName(member: MemberOut): string {
  if (member.kind === "group") return member.group ? `${member.group.name} (group)` : "A group";
  return member.user ? personName(member.user) : "Someone";
}

/** The PUT body that gives this member `role` (the API upserts). */
export function memberBody(member: MemberOut, role: Role): MemberPutBody | null {
  if (member.kind === "group" && member.group) return { group_id: member.group.id, role };
  if (member.kind === "user" && member.user) return { email: member.user.email, role };
  return null;
}

function RoleSelect({ id, label, value, onChange, disabled }: { id: string; label: string; value: Role; onChange: (role: Role) => void; disabled?: boolean }) {
  return (
    <div className="space-y-1">
      <label htmlFor={id} className="block text-sm font-medium text-slate-800">
        {label}
      </label>
      <select id={id} className="input" value={value} onChange={(event) => onChange(event.target.value as Role)} disabled={disabled}>
        <option value="viewer">{ROLE_HELP.viewer}</option>
        <option value="editor">{ROLE_HELP.editor}</option>
      </select>
    </div>
  );
}

function AddMemberForm({ share }: { share: (body: MemberPutBody) => Promise<unknown> }) {
  const groups = useGroups();
  const [kind, setKind] = useState<"user" | "group">("user");
  const [email, setEmail] = useState("");
  const [groupId, setGroupId] = useState("");
  const [role, setRole] = useState<Role>("viewer");
  const [state, setState] = useState<{ busy: boolean; error: string | null; done: string | null }>({ busy: false, error: null, done: null });
  const kindName = useId();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const body: MemberPutBody | null = kind === "user" ? (email.trim() ? { email: email.trim(), role } : null) : groupId ? { group_id: groupId, role } : null;
    if (!body) return;
    setState({ busy: true, error: null, done: null });
    try {
      await share(body);
    } catch (error) {
      setState({ busy: false, error: errorMessage(error), done: null });
      return;
    }
    const who = kind === "user" ? email.trim() : (groups.data?.find((group) => group.id === groupId)?.name ?? "the group");
    setEmail("");
    setState({ busy: false, error: null, done: `Shared with ${who}.` });
  };

  return (
    <form onSubmit={(event) => void submit(event)} className="space-y-3" aria-label="Share with" noValidate>
      <fieldset className="flex gap-4 text-sm">
        <legend className="mb-1 text-sm font-medium text-slate-800">Share with</legend>
        <label className="flex items-center gap-1.5">
          <input type="radio" name={kindName} checked={kind === "user"} onChange={() => setKind("user")} /> A person
        </label>
        <label className="flex items-center gap-1.5">
          <input type="radio" name={kindName} checked={kind === "group"} onChange={() => setKind("group")} /> A group
        </label>
      </fieldset>
      {kind === "user" ? (
        <TextField
          id="share-email"
          label="Their email"
          hint="They must have an account here."
          type="email"
          autoComplete="off"
          value={email}
          onChange={(event) => setEmail(event.target.value)}
        />
      ) : (
        <div className="space-y-1">
          <label htmlFor="share-group" className="block text-sm font-medium text-slate-800">
            Group
          </label>
          <select id="share-group" className="input" value={groupId} onChange={(event) => setGroupId(event.target.value)}>
            <option value="">Choose a group…</option>
            {(groups.data ?? []).map((group) => (
              <option key={group.id} value={group.id}>
                {group.name} ({group.member_count})
              </option>
            ))}
          </select>
          <p className="text-xs text-slate-600">
            {groups.data?.length === 0 ? "You have no groups yet. " : ""}
            <Link href="/groups/" className="text-blue-700 underline">
              Manage groups
            </Link>
          </p>
        </div>
      )}
      <RoleSelect id="share-role" label="Role" value={role} onChange={setRole} />
      {state.error ? <ErrorAlert>{state.error}</ErrorAlert> : null}
      <div className="flex items-center justify-between gap-2">
        <p className="text-sm text-green-800" aria-live="polite" data-testid="share-status">
          {state.done ?? ""}
        </p>
        <button type="submit" className="btn-primary" disabled={state.busy || (kind === "user" ? !email.trim() : !groupId)}>
          {state.busy ? "Sharing…" : "Share"}
        </button>
      </div>
    </form>
  );
}

function MemberList({ collectionId }: { collectionId: string }) {
  const members = useCollectionMembers(collectionId);
  const { share, unshare } = useMemberChanges(collectionId);
  const [error, setError] = useState<string | null>(null);
  const [announcement, setAnnouncement] = useState("");

  const changeRole = (member: MemberOut, role: Role) => {
    const body = memberBody(member, role);
    if (!body) return;
    setError(null);
    share.mutate(body, {
      onSuccess: () => setAnnouncement(`${memberName(member)} is now ${role === "editor" ? "an editor" : "a viewer"}.`),
      onError: (failure) => setError(errorMessage(failure)),
    });
  };
  const remove = (member: MemberOut) => {
    setError(null);
    unshare.mutate(member.id, {
      onSuccess: () => setAnnouncement(`${memberName(member)} no longer has access.`),
      onError: (failure) => setError(errorMessage(failure)),
    });
  };

  return (
    <section aria-labelledby="members-heading" className="space-y-2">
      <h3 id="members-heading" className="text-sm font-semibold text-slate-900">
        People and groups with access
      </h3>
      {error ? <ErrorAlert>{error}</ErrorAlert> : null}
      <p className="sr-only" aria-live="polite">
        {announcement}
      </p>
      {members.isPending ? (
        <p className="text-sm text-slate-600">Loading…</p>
      ) : members.isError ? (
        <ErrorAlert>{errorMessage(members.error)}</ErrorAlert>
      ) : members.data.length === 0 ? (
        <p className="text-sm text-slate-700" data-testid="no-members">
          Only you. Share it above.
        </p>
      ) : (
        <ul className="divide-y divide-slate-200 rounded-md border border-slate-200" aria-label="Members">
          {members.data.map((member) => {
            const name = memberName(member);
            return (
              <li key={member.id} className="flex flex-wrap items-center gap-2 px-3 py-2" data-testid="member-row">
                <div className="min-w-0 flex-1">
                  <p className="truncate text-sm font-medium text-slate-900">{name}</p>
                  {member.user && member.user.full_name.trim() ? <p className="truncate text-xs text-slate-600">{member.user.email}</p> : null}
                </div>
                <label className="sr-only" htmlFor={`member-role-${member.id}`}>
                  Role of {name}
                </label>
                <select
                  id={`member-role-${member.id}`}
                  className="input w-auto py-1"
                  value={member.role}
                  onChange={(event) => changeRole(member, event.target.value as Role)}
                  disabled={share.isPending}
                >
                  <option value="viewer">Viewer</option>
                  <option value="editor">Editor</option>
                </select>
                <button type="button" className="btn-ghost" onClick={() => remove(member)} disabled={unshare.isPending}>
                  Remove<span className="sr-only"> {name}</span>
                </button>
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}

/** The owner shares a collection with people (by email) and groups, as viewers or editors, and takes access away. */
export function ShareDialog({ collection, open, onClose }: { collection: CollectionOut; open: boolean; onClose: () => void }) {
  const { share } = useMemberChanges(collection.id);
  return (
    <Modal
      open={open}
      title={`Share “${collection.name}”`}
      description="Removing someone takes effect at once: their next search, answer or download no longer includes these documents."
      onClose={onClose}
      size="lg"
    >
      <div className="space-y-5">
        <AddMemberForm share={(body) => share.mutateAsync(body)} />
        <MemberList collectionId={collection.id} />
      </div>
    </Modal>
  );
}
