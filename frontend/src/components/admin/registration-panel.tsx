"use client";

import { useId, useState, type FormEvent } from "react";
import { ErrorAlert } from "@/components/ui/alert";
import { TextField } from "@/components/ui/text-field";
import { inviteLink } from "@/lib/admin";
import { errorMessage } from "@/lib/api";
import type { InviteCreatedOut, InviteOut, RegistrationMode } from "@/lib/api/teams-contract";
import { formatDate } from "@/lib/format";
import { useAdminSettings, useInvites } from "@/hooks/use-admin";

const MODES: { value: RegistrationMode; label: string; help: string }[] = [
  { value: "open", label: "Open", help: "Anyone who can reach this server can create an account." },
  { value: "invite", label: "Invite only", help: "Only people with an invite link can create an account." },
  { value: "closed", label: "Closed", help: "Nobody can create an account; admins add people from the command line." },
];

const EXPIRY_CHOICES = [
  { hours: 24, label: "1 day" },
  { hours: 72, label: "3 days" },
  { hours: 168, label: "1 week" },
  { hours: 720, label: "30 days" },
];

function RegistrationModeForm() {
  const { settings, save } = useAdminSettings();
  const [chosen, setChosen] = useState<RegistrationMode | null>(null);
  const name = useId();
  const current = chosen ?? settings.data?.registration_mode ?? null;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (current) save.mutate({ registration_mode: current }, { onSuccess: () => setChosen(null) });
  };

  if (settings.isError) return <ErrorAlert>{errorMessage(settings.error)}</ErrorAlert>;
  return (
    <form onSubmit={submit} className="card space-y-3 p-4" aria-label="Registration mode">
      <fieldset className="space-y-2">
        <legend className="text-sm font-semibold text-slate-900">Who can create an account</legend>
        {MODES.map((mode) => (
          <label key={mode.value} className="flex items-start gap-2 text-sm">
            <input
              type="radio"
              className="mt-1"
              name={name}
              value={mode.value}
              checked={current === mode.value}
              onChange={() => setChosen(mode.value)}
              disabled={!settings.data}
            />
            <span>
              <span className="font-medium text-slate-900">{mode.label}</span>
              <span className="block text-xs text-slate-600">{mode.help}</span>
            </span>
          </label>
        ))}
      </fieldset>
      {save.isError ? <ErrorAlert>{errorMessage(save.error)}</ErrorAlert> : null}
      <div className="flex items-center justify-end gap-3">
        <p className="text-sm text-green-800" aria-live="polite">
          {save.isSuccess && chosen === null ? "Saved." : ""}
        </p>
        <button type="submit" className="btn-primary" disabled={!chosen || save.isPending}>
          {save.isPending ? "Saving…" : "Save"}
        </button>
      </div>
    </form>
  );
}

function CopyLinkButton({ invite }: { invite: InviteCreatedOut }) {
  const [copied, setCopied] = useState<"yes" | "failed" | null>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(inviteLink(invite, window.location.origin));
      setCopied("yes");
    } catch {
      setCopied("failed");
    }
  };
  return (
    <>
      <button type="button" className="btn-ghost" onClick={() => void copy()}>
        Copy link<span className="sr-only"> of the invite{invite.email ? ` for ${invite.email}` : ""}</span>
      </button>
      <span className="text-xs text-slate-700" aria-live="polite">
        {copied === "yes" ? "Copied." : copied === "failed" ? "Copy failed: select the link and copy it." : ""}
      </span>
    </>
  );
}

export function inviteStatusText(invite: Pick<InviteOut, "status" | "expires_at" | "used_at">): string {
  switch (invite.status) {
    case "pending":
      return `Pending · expires ${formatDate(invite.expires_at)}`;
    case "used":
      return invite.used_at ? `Used ${formatDate(invite.used_at)}` : "Used";
    case "expired":
      return `Expired ${formatDate(invite.expires_at)}`;
  }
}

function Invites() {
  const { invites, create, revoke } = useInvites();
  const [email, setEmail] = useState("");
  const [hours, setHours] = useState(168);
  const [created, setCreated] = useState<InviteCreatedOut | null>(null);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate(
      { email: email.trim() || null, expires_in_hours: hours },
      {
        onSuccess: (invite) => {
          setEmail("");
          setCreated(invite);
        },
      },
    );
  };

  return (
    <section aria-labelledby="invites-heading" className="space-y-3">
      <h3 id="invites-heading" className="text-sm font-semibold text-slate-900">
        Invites
      </h3>
      <p className="text-sm text-slate-700">
        An invite is a link; send it any way you like (no mail server needed). It works once, until it expires, and is shown only
        when it is created: copy it then.
      </p>
      <form onSubmit={submit} className="card flex flex-col gap-3 p-4 sm:flex-row sm:items-start" aria-label="Create an invite" noValidate>
        <div className="min-w-0 flex-1">
          <TextField
            id="invite-email"
            label="Email (optional)"
            hint="Only this address can use the link."
            type="email"
            autoComplete="off"
            value={email}
            onChange={(event) => setEmail(event.target.value)}
          />
        </div>
        <div className="space-y-1">
          <label htmlFor="invite-expiry" className="block text-sm font-medium text-slate-800">
            Expires after
          </label>
          <select id="invite-expiry" className="input" value={hours} onChange={(event) => setHours(Number(event.target.value))}>
            {EXPIRY_CHOICES.map((choice) => (
              <option key={choice.hours} value={choice.hours}>
                {choice.label}
              </option>
            ))}
          </select>
        </div>
        <button type="submit" className="btn-primary sm:mt-6" disabled={create.isPending}>
          {create.isPending ? "Creating…" : "Create invite"}
        </button>
      </form>
      {create.isError ? <ErrorAlert>{errorMessage(create.error)}</ErrorAlert> : null}
      {created ? (
        <div className="rounded-md border border-green-200 bg-green-50 p-3 text-sm" data-testid="new-invite">
          <label htmlFor="new-invite-link" className="font-medium text-green-900">
            Invite link{created.email ? ` for ${created.email}` : ""}
          </label>
          <input id="new-invite-link" className="input mt-1 font-mono text-xs" readOnly value={inviteLink(created, window.location.origin)} />
          <div className="mt-1 flex items-center gap-2">
            <CopyLinkButton invite={created} />
          </div>
        </div>
      ) : null}
      {invites.isError ? (
        <ErrorAlert>{errorMessage(invites.error)}</ErrorAlert>
      ) : invites.data && invites.data.length > 0 ? (
        <ul className="card divide-y divide-slate-200" aria-label="Invites">
          {invites.data.map((invite) => (
            <li key={invite.id} className="flex flex-wrap items-center gap-2 px-3 py-2 text-sm" data-testid="invite-row">
              <span className="min-w-0 flex-1">
                <span className="font-medium text-slate-900">{invite.email ?? "Anyone with the link"}</span>
                <span className="block text-xs text-slate-600">{inviteStatusText(invite)}</span>
              </span>
              {invite.status === "pending" ? (
                <button type="button" className="btn-ghost" onClick={() => revoke.mutate(invite.id)} disabled={revoke.isPending}>
                  Revoke<span className="sr-only"> the invite{invite.email ? ` for ${invite.email}` : ""}</span>
                </button>
              ) : null}
            </li>
          ))}
        </ul>
      ) : invites.data ? (
        <p className="text-sm text-slate-700">No invites yet.</p>
      ) : null}
      {revoke.isError ? <ErrorAlert>{errorMessage(revoke.error)}</ErrorAlert> : null}
    </section>
  );
}

/** Registration mode (open / invite only / closed) and invite links. */
export function RegistrationPanel() {
  return (
    <section aria-labelledby="registration-heading" className="space-y-4">
      <h2 id="registration-heading" className="text-base font-semibold text-slate-900">
        Registration
      </h2>
      <RegistrationModeForm />
      <Invites />
    </section>
  );
}
