import type { Metadata } from "next";
import { RequireAuth } from "@/components/auth/require-auth";
import { AccountDataSection } from "@/components/settings/account-data-section";
import { ApiKeysSection } from "@/components/settings/api-keys-section";
import { PasswordSection } from "@/components/settings/password-section";
import { ProfileSection } from "@/components/settings/profile-section";
import { SessionsSection } from "@/components/settings/sessions-section";

export const metadata: Metadata = { title: "Settings" };

export default function SettingsPage() {
  return (
    <RequireAuth>
      <main className="mx-auto w-full max-w-3xl space-y-6 px-4 py-8">
        <h1 className="text-2xl font-semibold text-slate-900">Settings</h1>
        <ProfileSection />
        <PasswordSection />
        <SessionsSection />
        <ApiKeysSection />
        <AccountDataSection />
      </main>
    </RequireAuth>
  );
}
