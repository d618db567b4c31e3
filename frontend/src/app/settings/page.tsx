import type { Metadata } from "next";
import { RequireAuth } from "@/components/auth/require-auth";
import { AccountDataSection } from "@/components/settings/account-data-section";
import { ApiKeysSection } from "@/components/settings/api-keys-section";

export const metadata: Metadata = { title: "Settings" };

export default function SettingsPage() {
  return (
    <RequireAuth>
      <main className="mx-auto w-full max-w-3xl space-y-6 px-4 py-8">
        <h1 className="text-2xl font-semibold text-slate-900">Settings</h1>
        <ApiKeysSection />
        <AccountDataSection />
      </main>
    </RequireAuth>
  );
}
