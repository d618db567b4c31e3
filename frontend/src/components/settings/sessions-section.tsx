"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ErrorAlert } from "@/components/ui/alert";
import { errorMessage, type SessionInfo } from "@/lib/api";
import { accountApi } from "@/lib/api/endpoints";
import { SettingsSection } from "./settings-section";

export const SESSIONS_QUERY = ["sessions"] as const;

function formatWhen(iso: string): string {
  return new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/** A short name for a browser from its user agent ("Firefox on Linux"); the raw string otherwise. */
export function describeDevice(userAgent: string | null): string {
  if (!userAgent) return "Unknown device";
  const browser = /Edg\//.test(userAgent)
    ? "Edge"
    : /Firefox\//.test(userAgent)
      ? "Firefox"
      : /Chrom(e|ium)\//.test(userAgent)
        ? "Chrome"
        : /Safari\//.test(userAgent)
          ? "Safari"
          : null;
  const system = /Android/.test(userAgent)
    ? "Android"
    : /iPhone|iPad/.test(userAgent)
      ? "iOS"
      : /Windows/.test(userAgent)
        ? "Windows"
        : /Mac OS X/.test(userAgent)
          ? "macOS"
          : /Linux/.test(userAgent)
            ? "Linux"
            : null;
  if (browser && system) return `${browser} on ${system}`;
  return browser ?? userAgent;
}

/** The devices signed in to this account, with a way to sign each of the others out. */
export function SessionsSection() {
  const queryClient = useQueryClient();
  const sessions = useQuery({ queryKey: SESSIONS_QUERY, queryFn: accountApi.sessions });
  const revoke = useMutation({
    mutationFn: (session: SessionInfo) => accountApi.revokeSession(session.id),
    onSettled: () => queryClient.invalidateQueries({ queryKey: SESSIONS_QUERY }),
  });

  return (
    <SettingsSection title="Active sessions" description="Devices where you are signed in. Sign out any you do not recognise.">
      {revoke.isError ? <ErrorAlert className="mb-3">{errorMessage(revoke.error)}</ErrorAlert> : null}
      {sessions.isPending ? <p className="text-sm text-slate-600">Loading…</p> : null}
      {sessions.isError ? <ErrorAlert>{errorMessage(sessions.error)}</ErrorAlert> : null}
      {sessions.data ? (
        <ul className="divide-y divide-slate-200" aria-label="Active sessions">
          {sessions.data.map((session) => (
            <li key={session.id} className="flex flex-wrap items-center justify-between gap-3 py-3">
              <div className="min-w-0">
                <p className="text-sm font-medium text-slate-900">
                  {describeDevice(session.user_agent)}
                  {session.current ? <span className="ml-2 rounded bg-blue-50 px-1.5 py-0.5 text-xs text-blue-800">This device</span> : null}
                </p>
                <p className="text-xs text-slate-600">
                  {session.ip ?? "Unknown address"} · signed in {formatWhen(session.created_at)} · last active {formatWhen(session.last_used_at)}
                </p>
              </div>
              {session.current ? null : (
                <button
                  type="button"
                  className="btn-secondary"
                  disabled={revoke.isPending && revoke.variables?.id === session.id}
                  onClick={() => revoke.mutate(session)}
                  aria-label={`Sign out ${describeDevice(session.user_agent)}, last active ${formatWhen(session.last_used_at)}`}
                >
                  Sign out
                </button>
              )}
            </li>
          ))}
        </ul>
      ) : null}
    </SettingsSection>
  );
}
