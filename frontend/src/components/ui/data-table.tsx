import type { ReactNode } from "react";

export type Column = { label: string; numeric?: boolean; hiddenLabel?: boolean };

/**
 * A table of records with a header row, in a card that scrolls sideways when the table is wider
 * than the screen. The card is focusable so that a keyboard can scroll it (WCAG: scrollable
 * regions must be reachable).
 */
export function DataTable({ label, columns, children }: { label: string; columns: Column[]; children: ReactNode }) {
  return (
    <div className="card overflow-x-auto" tabIndex={0} role="region" aria-label={`${label}, scrollable`}>
      <table className="min-w-full text-left text-sm" aria-label={label}>
        <thead className="border-b border-slate-200 bg-slate-50 text-xs text-slate-700">
          <tr>
            {columns.map((column) => (
              <th key={column.label} scope="col" className={`px-3 py-2 font-semibold ${column.numeric ? "text-right" : ""}`}>
                {column.hiddenLabel ? <span className="sr-only">{column.label}</span> : column.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-200">{children}</tbody>
      </table>
    </div>
  );
}
