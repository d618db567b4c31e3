"use client";

import { useState, type FormEvent } from "react";
import { ErrorAlert } from "@/components/ui/alert";
import { DataTable, type Column } from "@/components/ui/data-table";
import { PageLoading } from "@/components/ui/spinner";
import { TextField } from "@/components/ui/text-field";
import { auditFiltersFromForm } from "@/lib/admin";
import { errorMessage } from "@/lib/api";
import { adminApi } from "@/lib/api/teams-client";
import type { AuditFilters } from "@/lib/api/teams-contract";
import { saveBlob } from "@/lib/download-original";
import { formatDate } from "@/lib/format";
import { useAuditLog } from "@/hooks/use-admin";

const EMPTY_FORM = { action: "", actor: "", since: "", until: "" };

const AUDIT_COLUMNS: Column[] = ["When", "Who", "Action", "Target", "IP", "Request", "Details"].map((label) => ({ label }));

/** The audit log: who did what, when, from where; filters and a CSV export of the same rows. */
export function AuditPanel() {
  const [form, setForm] = useState(EMPTY_FORM);
  const [filters, setFilters] = useState<AuditFilters>({});
  const events = useAuditLog(filters);
  const [exporting, setExporting] = useState<{ busy: boolean; error: string | null }>({ busy: false, error: null });

  const apply = (event: FormEvent) => {
    event.preventDefault();
    setFilters(auditFiltersFromForm(form));
  };
  const field = (name: keyof typeof EMPTY_FORM) => ({
    value: form[name],
    onChange: (event: { target: { value: string } }) => setForm((current) => ({ ...current, [name]: event.target.value })),
  });

  const exportCsv = async () => {
    setExporting({ busy: true, error: null });
    try {
      saveBlob(await adminApi.auditCsv(filters), "docchat-audit.csv");
      setExporting({ busy: false, error: null });
    } catch (error) {
      setExporting({ busy: false, error: errorMessage(error) });
    }
  };

  return (
    <section aria-labelledby="audit-heading" className="space-y-3">
      <h2 id="audit-heading" className="text-base font-semibold text-slate-900">
        Audit log
      </h2>
      <form onSubmit={apply} className="card grid gap-3 p-4 sm:grid-cols-2 lg:grid-cols-4" aria-label="Audit log filters" noValidate>
        <TextField id="audit-action" label="Action" hint="e.g. auth.sign_in_failed" autoComplete="off" {...field("action")} />
        <TextField id="audit-actor" label="Actor email" hint="Or part of it, or an account id" autoComplete="off" {...field("actor")} />
        <TextField id="audit-since" label="Since" type="datetime-local" autoComplete="off" {...field("since")} />
        <TextField id="audit-until" label="Until" type="datetime-local" autoComplete="off" {...field("until")} />
        <div className="flex gap-2 sm:col-span-2 lg:col-span-4">
          <button type="submit" className="btn-primary">
            Apply filters
          </button>
          <button
            type="button"
            className="btn-secondary"
            onClick={() => {
              setForm(EMPTY_FORM);
              setFilters({});
            }}
          >
            Clear
          </button>
          <button type="button" className="btn-secondary ml-auto" onClick={() => void exportCsv()} disabled={exporting.busy}>
            {exporting.busy ? "Exporting…" : "Export CSV"}
          </button>
        </div>
      </form>
      {exporting.error ? <ErrorAlert>{exporting.error}</ErrorAlert> : null}
      {events.isPending ? (
        <PageLoading label="Loading the audit log…" />
      ) : events.isError ? (
        <ErrorAlert>{errorMessage(events.error)}</ErrorAlert>
      ) : events.data.length === 0 ? (
        <p className="text-sm text-slate-700">No events match.</p>
      ) : (
        <DataTable label="Audit events" columns={AUDIT_COLUMNS}>
          {events.data.map((event) => (
            <tr key={event.id} data-testid="audit-row">
              <td className="whitespace-nowrap px-3 py-2 text-xs">{formatDate(event.at)}</td>
              <td className="px-3 py-2">{event.actor?.email ?? "—"}</td>
              <td className="px-3 py-2 font-mono text-xs">{event.action}</td>
              <td className="px-3 py-2 text-xs">{event.target_type ? `${event.target_type} ${event.target_id ?? ""}` : "—"}</td>
              <td className="px-3 py-2 font-mono text-xs">{event.ip ?? "—"}</td>
              <td className="px-3 py-2 font-mono text-xs">{event.request_id ?? "—"}</td>
              <td className="max-w-xs truncate px-3 py-2 font-mono text-xs" title={event.details ? JSON.stringify(event.details) : undefined}>
                {event.details ? JSON.stringify(event.details) : ""}
              </td>
            </tr>
          ))}
        </DataTable>
      )}
    </section>
  );
}
