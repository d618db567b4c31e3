"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useId, useRef, useState, type FormEvent } from "react";
import { ErrorAlert } from "@/components/ui/alert";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { TextField } from "@/components/ui/text-field";
import { errorMessage, type ApiKey, type ApiKeyCreated } from "@/lib/api";
import { apiKeysApi } from "@/lib/api/endpoints";
import { formatDate } from "@/lib/format";
import { SettingsSection } from "./settings-section";

export const API_KEYS_QUERY = ["api-keys"] as const;

const EXPIRY_CHOICES = [
  { value: "never", label: "Never", days: null },
  { value: "30", label: "In 30 days", days: 30 },
  { value: "90", label: "In 90 days", days: 90 },
  { value: "365", label: "In a year", days: 365 },
] as const;
type Expiry = (typeof EXPIRY_CHOICES)[number]["value"];

/** When a key chosen to expire in `days` days stops working (null: never). */
export function expiryDate(days: number | null, now: Date = new Date()): string | null {
  return days === null ? null : new Date(now.getTime() + days * 86_400_000).toISOString();
}

function lastUsedText(key: ApiKey): string {
  if (!key.last_used_at) return "Never used";
  return `Last used ${formatDate(key.last_used_at)}${key.last_used_ip ? ` from ${key.last_used_ip}` : ""}`;
}

/** The key of a new API key, shown this once with a button to copy it. */
function NewKey({ created, onDone }: { created: ApiKeyCreated; onDone: () => void }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    await navigator.clipboard.writeText(created.key);
    setCopied(true);
  };
  return (
    <div className="rounded-md border border-amber-300 bg-amber-50 p-4" aria-label="New API key" role="region">
      <p className="text-sm font-medium text-slate-900">Copy the key “{created.name}” now: it will not be shown again.</p>
      <div className="mt-2 flex items-center gap-2">
        <code data-testid="new-api-key" className="min-w-0 flex-1 break-all rounded bg-white px-2 py-1 text-sm text-slate-900">
          {created.key}
        </code>
        <button type="button" className="btn-secondary" onClick={() => void copy()}>
          {copied ? "Copied" : "Copy"}
        </button>
      </div>
      <button type="button" className="btn-ghost mt-3" onClick={onDone}>
        Done
      </button>
    </div>
  );
}

/** Personal API keys: create (shown once), list with their last use, revoke. */
export function ApiKeysSection() {
  const queryClient = useQueryClient();
  const keys = useQuery({ queryKey: API_KEYS_QUERY, queryFn: apiKeysApi.list });
  const [name, setName] = useState("");
  const [canWrite, setCanWrite] = useState(false);
  const [expiry, setExpiry] = useState<Expiry>("never");
  const [nameError, setNameError] = useState<string | undefined>();
  const [created, setCreated] = useState<ApiKeyCreated | null>(null);
  const [revoking, setRevoking] = useState<ApiKey | null>(null);
  const listRef = useRef<HTMLHeadingElement>(null);
  const expiryId = useId();

  const create = useMutation({
    mutationFn: apiKeysApi.create,
    onSuccess: async (key) => {
      setCreated(key);
      setName("");
      await queryClient.invalidateQueries({ queryKey: API_KEYS_QUERY });
    },
  });

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    if (!name.trim()) {
      setNameError("Name the key after where it is used.");
      return;
    }
    setNameError(undefined);
    const days = EXPIRY_CHOICES.find((choice) => choice.value === expiry)?.days ?? null;
    create.mutate({ name: name.trim(), scopes: canWrite ? ["read", "write"] : ["read"], expires_at: expiryDate(days) });
  };

  return (
    <SettingsSection
      title="API keys"
      description="Keys let scripts and AI assistants (MCP) use DocChat as you. A read key can search, list, chat and download; a write key can also upload and delete."
    >
      {created ? <NewKey created={created} onDone={() => setCreated(null)} /> : null}
      <form onSubmit={onSubmit} noValidate className="mt-4 max-w-md space-y-4" aria-label="Create API key">
        {create.error ? <ErrorAlert>{errorMessage(create.error)}</ErrorAlert> : null}
        <TextField id="api-key-name" label="Key name" autoComplete="off" hint="For example “Laptop” or “Claude Desktop”." error={nameError} value={name} onChange={(event) => setName(event.target.value)} maxLength={100} />
        <label className="flex items-center gap-2 text-sm text-slate-800">
          <input type="checkbox" checked={canWrite} onChange={(event) => setCanWrite(event.target.checked)} />
          Can also upload and delete documents (write)
        </label>
        <div className="space-y-1">
          <label htmlFor={expiryId} className="block text-sm font-medium text-slate-800">
            Expires
          </label>
          <select id={expiryId} className="input" value={expiry} onChange={(event) => setExpiry(event.target.value as Expiry)}>
            {EXPIRY_CHOICES.map((choice) => (
              <option key={choice.value} value={choice.value}>
                {choice.label}
              </option>
            ))}
          </select>
        </div>
        <button type="submit" className="btn-primary" disabled={create.isPending}>
          {create.isPending ? "Creating…" : "Create key"}
        </button>
      </form>

      <h3 ref={listRef} tabIndex={-1} className="mt-6 text-sm font-semibold text-slate-900">
        Your keys
      </h3>
      {keys.error ? <ErrorAlert className="mt-2">{errorMessage(keys.error)}</ErrorAlert> : null}
      {keys.data && keys.data.length === 0 ? <p className="mt-2 text-sm text-slate-600">No keys yet.</p> : null}
      <ul className="mt-2 divide-y divide-slate-200" aria-label="API keys">
        {keys.data?.map((key) => (
          <li key={key.id} className="flex items-center justify-between gap-3 py-3">
            <div className="min-w-0">
              <p className="truncate text-sm font-medium text-slate-900">{key.name}</p>
              <p className="text-xs text-slate-600">
                <code>{key.prefix}…</code> · {key.scopes.includes("write") ? "read and write" : "read only"} ·{" "}
                {key.expires_at ? `expires ${formatDate(key.expires_at)}` : "no expiry"}
              </p>
              <p className="text-xs text-slate-600">{lastUsedText(key)}</p>
            </div>
            <button type="button" className="btn-secondary" onClick={() => setRevoking(key)} aria-label={`Revoke ${key.name}`}>
              Revoke
            </button>
          </li>
        ))}
      </ul>
      <ConfirmDialog
        subject={revoking}
        title="Revoke this key?"
        confirmLabel="Revoke"
        onConfirm={async (key) => {
          await apiKeysApi.revoke(key.id);
          await queryClient.invalidateQueries({ queryKey: API_KEYS_QUERY });
        }}
        onClose={() => setRevoking(null)}
        fallbackFocus={listRef}
      >
        {(key) => <>Anything using “{key.name}” stops working at its next request. This cannot be undone.</>}
      </ConfirmDialog>
    </SettingsSection>
  );
}
