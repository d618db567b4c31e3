"use client";

import { useId, useRef, useState, type KeyboardEvent } from "react";
import { useAuth } from "@/components/auth/auth-provider";
import { ErrorAlert } from "@/components/ui/alert";
import { isAdmin } from "@/lib/admin";
import { AuditPanel } from "./audit-panel";
import { RegistrationPanel } from "./registration-panel";
import { UsersPanel } from "./users-panel";

const TABS = [
  { id: "users", label: "Users" },
  { id: "registration", label: "Registration" },
  { id: "audit", label: "Audit log" },
] as const;
type TabId = (typeof TABS)[number]["id"];

/** The admin console: accounts, registration and the audit log (admins manage accounts, not content). */
export function AdminConsole() {
  const { user } = useAuth();
  const [tab, setTab] = useState<TabId>("users");
  const baseId = useId();
  const tabRefs = useRef<Record<string, HTMLButtonElement | null>>({});

  if (!user || !isAdmin(user)) {
    return (
      <div className="mx-auto mt-10 max-w-md px-4">
        <ErrorAlert>Only administrators can open the admin console.</ErrorAlert>
      </div>
    );
  }

  // Arrow keys move between tabs (the WAI-ARIA tabs pattern).
  const onKeyDown = (event: KeyboardEvent) => {
    const index = TABS.findIndex((item) => item.id === tab);
    const step = event.key === "ArrowRight" ? 1 : event.key === "ArrowLeft" ? -1 : 0;
    if (!step) return;
    event.preventDefault();
    const next = TABS[(index + step + TABS.length) % TABS.length];
    if (!next) return;
    setTab(next.id);
    tabRefs.current[next.id]?.focus();
  };

  return (
    <div className="mx-auto w-full max-w-7xl space-y-5 px-3 py-6 sm:px-5">
      <div>
        <h1 className="text-xl font-semibold text-slate-900">Admin</h1>
        <p className="text-sm text-slate-600">Accounts, registration and the audit log. Admins cannot read other people&apos;s documents or chats.</p>
      </div>
      <div role="tablist" aria-label="Admin sections" className="flex gap-1 border-b border-slate-200" onKeyDown={onKeyDown}>
        {TABS.map((item) => {
          const selected = item.id === tab;
          return (
            <button
              key={item.id}
              ref={(element) => {
                tabRefs.current[item.id] = element;
              }}
              type="button"
              role="tab"
              id={`${baseId}-tab-${item.id}`}
              aria-selected={selected}
              aria-controls={`${baseId}-panel-${item.id}`}
              tabIndex={selected ? 0 : -1}
              onClick={() => setTab(item.id)}
              className={`-mb-px border-b-2 px-3 py-2 text-sm font-medium ${
                selected ? "border-blue-700 text-blue-800" : "border-transparent text-slate-700 hover:text-slate-900"
              }`}
            >
              {item.label}
            </button>
          );
        })}
      </div>
      {TABS.map((item) => (
        <div key={item.id} role="tabpanel" id={`${baseId}-panel-${item.id}`} aria-labelledby={`${baseId}-tab-${item.id}`} hidden={item.id !== tab}>
          {item.id !== tab ? null : item.id === "users" ? (
            <UsersPanel currentUserId={user.id} />
          ) : item.id === "registration" ? (
            <RegistrationPanel />
          ) : (
            <AuditPanel />
          )}
        </div>
      ))}
    </div>
  );
}
