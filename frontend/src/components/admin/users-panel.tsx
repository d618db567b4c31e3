"use client";

import { useDeferredValue, useRef, useState, type FormEvent } from "react";
import { ErrorAlert } from "@/components/ui/alert";
import { DataTable, type Column } from "@/components/ui/data-table";
import { FormActions } from "@/components/ui/form-actions";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { Modal } from "@/components/ui/modal";
import { PageLoading } from "@/components/ui/spinner";
import { TextField } from "@/components/ui/text-field";
import { parseQuota, quotaFieldValue, quotaText, storageText } from "@/lib/admin";
import { errorMessage } from "@/lib/api";
import type { AdminUserOut } from "@/lib/api/teams-contract";
import { formatDate } from "@/lib/format";
import { useAdminUserChanges, useAdminUsers } from "@/hooks/use-admin";

type Changes = ReturnType<typeof useAdminUserChanges>;

function QuotaForm({ user, changes, onClose }: { user: AdminUserOut; changes: Changes; onClose: () => void }) {
  const [storage, setStorage] = useState(quotaFieldValue(user.quota.storage_mb, user.quota.storage_mb_is_default));
  const [documents, setDocuments] = useState(quotaFieldValue(user.quota.documents, user.quota.documents_is_default));
  const storageValue = parseQuota(storage);
  const documentsValue = parseQuota(documents);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!storageValue.ok || !documentsValue.ok) return;
    changes.update.mutate(
      { id: user.id, quota_storage_mb: storageValue.value, quota_documents: documentsValue.value },
      { onSuccess: onClose },
    );
  };
  return (
    <form onSubmit={submit} className="space-y-3" noValidate>
      {changes.update.isError ? <ErrorAlert>{errorMessage(changes.update.error)}</ErrorAlert> : null}
      <TextField
        id="quota-storage"
        label="Storage (MB)"
        hint="Blank: the server's default; 0: no limit."
        inputMode="numeric"
        autoComplete="off"
        value={storage}
        onChange={(event) => setStorage(event.target.value)}
        error={storageValue.ok ? undefined : storageValue.message}
      />
      <TextField
        id="quota-documents"
        label="Documents"
        hint="Blank: the server's default; 0: no limit."
        inputMode="numeric"
        autoComplete="off"
        value={documents}
        onChange={(event) => setDocuments(event.target.value)}
        error={documentsValue.ok ? undefined : documentsValue.message}
      />
      <FormActions
        onCancel={onClose}
        submitLabel="Save quotas"
        busyLabel="Saving…"
        busy={changes.update.isPending}
        disabled={!storageValue.ok || !documentsValue.ok}
      />
    </form>
  );
}

const USER_COLUMNS: Column[] = [
  { label: "User" },
  { label: "Role" },
  { label: "Status" },
  { label: "Documents", numeric: true },
  { label: "Storage", numeric: true },
  { label: "Passages", numeric: true },
  { label: "Messages", numeric: true },
  { label: "Last active" },
  { label: "Quota" },
  { label: "Actions", hiddenLabel: true },
];

/** Users with their usage; disable/enable, promote/demote, quotas, delete. */
export function UsersPanel({ currentUserId }: { currentUserId: string }) {
  const [query, setQuery] = useState("");
  const deferredQuery = useDeferredValue(query);
  const users = useAdminUsers(deferredQuery);
  const changes = useAdminUserChanges();
  const [quotaUser, setQuotaUser] = useState<AdminUserOut | null>(null);
  const [pendingDelete, setPendingDelete] = useState<AdminUserOut | null>(null);
  const [error, setError] = useState<string | null>(null);
  const headingRef = useRef<HTMLHeadingElement>(null);

  const update = (user: AdminUserOut, body: { role?: AdminUserOut["role"]; disabled?: boolean }) => {
    setError(null);
    changes.update.mutate({ id: user.id, ...body }, { onError: (failure) => setError(errorMessage(failure)) });
  };

  return (
    <section aria-labelledby="users-heading" className="space-y-3">
      <h2 id="users-heading" ref={headingRef} tabIndex={-1} className="text-base font-semibold text-slate-900">
        Users
      </h2>
      <div className="max-w-sm">
        <TextField
          id="admin-user-search"
          label="Search by name or email"
          type="search"
          autoComplete="off"
          value={query}
          onChange={(event) => setQuery(event.target.value)}
        />
      </div>
      {error ? <ErrorAlert>{error}</ErrorAlert> : null}
      {users.isPending ? (
        <PageLoading label="Loading users…" />
      ) : users.isError ? (
        <ErrorAlert>{errorMessage(users.error)}</ErrorAlert>
      ) : users.data.length === 0 ? (
        <p className="text-sm text-slate-700">No user matches.</p>
      ) : (
        <DataTable label="Users" columns={USER_COLUMNS}>
          {users.data.map((user) => {
            const self = user.id === currentUserId;
            const label = user.full_name.trim() || user.email;
            return (
              <tr key={user.id} data-testid="admin-user-row" data-email={user.email}>
                <td className="px-3 py-2">
                  <p className="font-medium text-slate-900">
                    {label}
                    {self ? <span className="text-slate-600"> (you)</span> : null}
                  </p>
                  <p className="text-xs text-slate-600">{user.email}</p>
                </td>
                <td className="px-3 py-2">{user.role === "admin" ? "Admin" : "Member"}</td>
                <td className="px-3 py-2">
                  {user.disabled ? (
                    <span className="rounded-full bg-red-100 px-2 py-0.5 text-xs font-medium text-red-900">Disabled</span>
                  ) : (
                    <span className="rounded-full bg-green-100 px-2 py-0.5 text-xs font-medium text-green-900">Active</span>
                  )}
                </td>
                <td className="px-3 py-2 text-right tabular-nums">{user.usage.documents}</td>
                <td className="px-3 py-2 text-right tabular-nums">{storageText(user.usage)}</td>
                <td className="px-3 py-2 text-right tabular-nums">{user.usage.chunks}</td>
                <td className="px-3 py-2 text-right tabular-nums">{user.usage.messages}</td>
                <td className="px-3 py-2 text-xs">{user.last_active_at ? formatDate(user.last_active_at) : "Never"}</td>
                <td className="px-3 py-2 text-xs">{quotaText(user.quota)}</td>
                <td className="px-3 py-2">
                  <div className="flex flex-wrap justify-end gap-1">
                    <button type="button" className="btn-ghost" onClick={() => setQuotaUser(user)}>
                      Quotas<span className="sr-only"> of {label}</span>
                    </button>
                    {self ? null : (
                      <>
                        <button
                          type="button"
                          className="btn-ghost"
                          onClick={() => update(user, { role: user.role === "admin" ? "member" : "admin" })}
                        >
                          {user.role === "admin" ? "Make member" : "Make admin"}
                          <span className="sr-only"> {label}</span>
                        </button>
                        <button type="button" className="btn-ghost" onClick={() => update(user, { disabled: !user.disabled })}>
                          {user.disabled ? "Enable" : "Disable"}
                          <span className="sr-only"> {label}</span>
                        </button>
                        <button type="button" className="btn-ghost text-red-800" onClick={() => setPendingDelete(user)}>
                          Delete<span className="sr-only"> {label}</span>
                        </button>
                      </>
                    )}
                  </div>
                </td>
              </tr>
            );
          })}
        </DataTable>
      )}
      <Modal open={quotaUser !== null} title={`Quotas of ${quotaUser?.email ?? ""}`} description="Checked at every upload." onClose={() => setQuotaUser(null)}>
        {quotaUser ? <QuotaForm user={quotaUser} changes={changes} onClose={() => setQuotaUser(null)} /> : null}
      </Modal>
      <ConfirmDialog
        subject={pendingDelete}
        title="Delete this user and all their data?"
        confirmLabel="Delete user"
        onConfirm={(user) => changes.remove.mutateAsync(user.id)}
        onClose={() => setPendingDelete(null)}
        fallbackFocus={headingRef}
      >
        {(user) => (
          <p>
            <strong className="break-all">{user.email}</strong>, their documents, collections, groups and conversations are deleted for
            good. What they shared disappears for everyone. This cannot be undone.
          </p>
        )}
      </ConfirmDialog>
    </section>
  );
}
