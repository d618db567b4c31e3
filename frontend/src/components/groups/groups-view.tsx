"use client";

import { useRef, useState, type FormEvent } from "react";
import { useAuth } from "@/components/auth/auth-provider";
import { personName } from "@/components/sharing/role-badge";
import { ErrorAlert } from "@/components/ui/alert";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { PageLoading } from "@/components/ui/spinner";
import { TextField } from "@/components/ui/text-field";
import { errorMessage } from "@/lib/api";
import type { GroupOut } from "@/lib/api/teams-contract";
import { pluralize } from "@/lib/format";
import { useGroupChanges, useGroupMembers, useGroups } from "@/hooks/use-groups";

type Changes = ReturnType<typeof useGroupChanges>;

function CreateGroupForm({ changes }: { changes: Changes }) {
  const [name, setName] = useState("");
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!name.trim()) return;
    changes.create.mutate(name.trim(), { onSuccess: () => setName("") });
  };
  return (
    <form onSubmit={submit} className="card flex flex-col gap-2 p-4 sm:flex-row sm:items-start" aria-label="Create a group" noValidate>
      <div className="min-w-0 flex-1">
        <TextField
          id="group-name"
          label="New group"
          hint="A named set of people you can share collections with."
          autoComplete="off"
          maxLength={200}
          value={name}
          onChange={(event) => setName(event.target.value)}
          error={changes.create.isError ? errorMessage(changes.create.error) : undefined}
        />
      </div>
      <button type="submit" className="btn-primary sm:mt-6" disabled={changes.create.isPending || !name.trim()}>
        {changes.create.isPending ? "Creating…" : "Create group"}
      </button>
    </form>
  );
}

function GroupMembers({ group, changes }: { group: GroupOut; changes: Changes }) {
  const members = useGroupMembers(group.id);
  const [email, setEmail] = useState("");
  const owner = group.my_role === "owner";
  const add = (event: FormEvent) => {
    event.preventDefault();
    if (!email.trim()) return;
    changes.addMember.mutate({ id: group.id, email: email.trim() }, { onSuccess: () => setEmail("") });
  };
  const removing = changes.removeMember;

  return (
    <div className="mt-3 space-y-3 border-t border-slate-200 pt-3">
      {members.isPending ? (
        <p className="text-sm text-slate-600">Loading members…</p>
      ) : members.isError ? (
        <ErrorAlert>{errorMessage(members.error)}</ErrorAlert>
      ) : members.data.length === 0 ? (
        <p className="text-sm text-slate-700">No members yet.</p>
      ) : (
        <ul className="space-y-1" aria-label={`Members of ${group.name}`}>
          {members.data.map((member) => (
            <li key={member.id} className="flex items-center gap-2 text-sm" data-testid="group-member">
              <span className="min-w-0 flex-1 truncate">
                {personName(member)}
                {member.full_name.trim() ? <span className="text-slate-600"> · {member.email}</span> : null}
              </span>
              {owner ? (
                <button
                  type="button"
                  className="btn-ghost"
                  onClick={() => removing.mutate({ id: group.id, userId: member.id })}
                  disabled={removing.isPending}
                >
                  Remove<span className="sr-only"> {personName(member)} from {group.name}</span>
                </button>
              ) : null}
            </li>
          ))}
        </ul>
      )}
      {removing.isError ? <ErrorAlert>{errorMessage(removing.error)}</ErrorAlert> : null}
      {owner ? (
        <form onSubmit={add} className="flex flex-col gap-2 sm:flex-row sm:items-start" aria-label={`Add a member to ${group.name}`} noValidate>
          <div className="min-w-0 flex-1">
            <TextField
              id={`group-add-${group.id}`}
              label="Add a member by email"
              type="email"
              autoComplete="off"
              value={email}
              onChange={(event) => setEmail(event.target.value)}
              error={changes.addMember.isError ? errorMessage(changes.addMember.error) : undefined}
            />
          </div>
          <button type="submit" className="btn-secondary sm:mt-6" disabled={changes.addMember.isPending || !email.trim()}>
            Add
          </button>
        </form>
      ) : null}
    </div>
  );
}

function RenameGroupForm({ group, changes, onDone }: { group: GroupOut; changes: Changes; onDone: () => void }) {
  const [name, setName] = useState(group.name);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!name.trim() || name.trim() === group.name) return onDone();
    changes.rename.mutate({ id: group.id, name: name.trim() }, { onSuccess: onDone });
  };
  return (
    <form onSubmit={submit} className="flex flex-col gap-2 sm:flex-row sm:items-start" noValidate>
      <div className="min-w-0 flex-1">
        <TextField
          id={`group-rename-${group.id}`}
          label="Group name"
          autoComplete="off"
          maxLength={200}
          value={name}
          onChange={(event) => setName(event.target.value)}
          error={changes.rename.isError ? errorMessage(changes.rename.error) : undefined}
        />
      </div>
      <div className="flex gap-2 sm:mt-6">
        <button type="submit" className="btn-secondary" disabled={changes.rename.isPending}>
          Save
        </button>
        <button type="button" className="btn-ghost" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}

/** Groups the user owns (create, rename, delete, members) or belongs to (leave). */
export function GroupsView() {
  const { user } = useAuth();
  const groups = useGroups();
  const changes = useGroupChanges();
  const [openId, setOpenId] = useState<string | null>(null);
  const [renamingId, setRenamingId] = useState<string | null>(null);
  const [pending, setPending] = useState<{ group: GroupOut; action: "delete" | "leave" } | null>(null);
  const headingRef = useRef<HTMLHeadingElement>(null);

  const confirm = async ({ group, action }: { group: GroupOut; action: "delete" | "leave" }) => {
    if (action === "delete") await changes.remove.mutateAsync(group.id);
    else if (user) await changes.removeMember.mutateAsync({ id: group.id, userId: user.id });
  };

  return (
    <div className="mx-auto w-full max-w-3xl space-y-5 px-3 py-6 sm:px-5">
      <div>
        <h1 ref={headingRef} tabIndex={-1} className="text-xl font-semibold text-slate-900">
          Groups
        </h1>
        <p className="text-sm text-slate-600">Share a collection with a group, and everyone in it gets access; leaving a group ends it at once.</p>
      </div>
      <CreateGroupForm changes={changes} />
      {groups.isPending ? (
        <PageLoading label="Loading groups…" />
      ) : groups.isError ? (
        <ErrorAlert>{errorMessage(groups.error)}</ErrorAlert>
      ) : groups.data.length === 0 ? (
        <p className="card p-6 text-center text-sm text-slate-700">You own no groups and belong to none.</p>
      ) : (
        <ul className="space-y-3" aria-label="Groups">
          {groups.data.map((group) => {
            const owner = group.my_role === "owner";
            const expanded = openId === group.id;
            const panelId = `group-panel-${group.id}`;
            return (
              <li key={group.id} className="card p-4" data-testid="group-row">
                {renamingId === group.id ? (
                  <RenameGroupForm group={group} changes={changes} onDone={() => setRenamingId(null)} />
                ) : (
                  <div className="flex flex-wrap items-center gap-2">
                    <div className="min-w-0 flex-1">
                      <h2 className="truncate text-sm font-semibold text-slate-900">{group.name}</h2>
                      <p className="text-xs text-slate-600">
                        {pluralize(group.member_count, "member")} · {owner ? "you own it" : `owned by ${personName(group.owner)}`}
                      </p>
                    </div>
                    <button
                      type="button"
                      className="btn-secondary"
                      aria-expanded={expanded}
                      aria-controls={panelId}
                      onClick={() => setOpenId(expanded ? null : group.id)}
                    >
                      Members<span className="sr-only"> of {group.name}</span>
                    </button>
                    {owner ? (
                      <>
                        <button type="button" className="btn-ghost" onClick={() => setRenamingId(group.id)}>
                          Rename<span className="sr-only"> {group.name}</span>
                        </button>
                        <button type="button" className="btn-ghost" onClick={() => setPending({ group, action: "delete" })}>
                          Delete<span className="sr-only"> group {group.name}</span>
                        </button>
                      </>
                    ) : (
                      <button type="button" className="btn-ghost" onClick={() => setPending({ group, action: "leave" })}>
                        Leave<span className="sr-only"> {group.name}</span>
                      </button>
                    )}
                  </div>
                )}
                <div id={panelId}>{expanded ? <GroupMembers group={group} changes={changes} /> : null}</div>
              </li>
            );
          })}
        </ul>
      )}
      <ConfirmDialog
        subject={pending}
        title={pending?.action === "leave" ? "Leave this group?" : "Delete this group?"}
        confirmLabel={pending?.action === "leave" ? "Leave" : "Delete group"}
        onConfirm={confirm}
        onClose={() => setPending(null)}
        fallbackFocus={headingRef}
      >
        {({ group, action }) =>
          action === "leave" ? (
            <p>
              You lose access to everything shared with <strong>{group.name}</strong> at once. Its owner can add you again.
            </p>
          ) : (
            <p>
              <strong>{group.name}</strong> is deleted, and its members lose access to everything shared with it.
            </p>
          )
        }
      </ConfirmDialog>
    </div>
  );
}
