"use client";

import { useRouter } from "next/navigation";
import { useState, type FormEvent } from "react";
import { useAuth } from "@/components/auth/auth-provider";
import { ErrorAlert } from "@/components/ui/alert";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { TextField } from "@/components/ui/text-field";
import { errorMessage } from "@/lib/api";
import { accountDataApi } from "@/lib/api/endpoints";
import { saveDownload } from "@/lib/download-original";
import { SettingsSection } from "./settings-section";

/** Export everything as a zip, or delete the account with everything in it. */
export function AccountDataSection() {
  const { signOut } = useAuth();
  const router = useRouter();
  const [exporting, setExporting] = useState(false);
  const [exportError, setExportError] = useState<string | null>(null);
  const [password, setPassword] = useState("");
  const [passwordError, setPasswordError] = useState<string | undefined>();
  const [confirming, setConfirming] = useState<string | null>(null);

  const exportData = async () => {
    setExporting(true);
    setExportError(null);
    try {
      await saveDownload(accountDataApi.exportUrl(), "docchat-export.zip");
    } catch (error) {
      setExportError(errorMessage(error));
    } finally {
      setExporting(false);
    }
  };

  const onDelete = (event: FormEvent) => {
    event.preventDefault();
    if (!password) {
      setPasswordError("Enter your password to confirm.");
      return;
    }
    setPasswordError(undefined);
    setConfirming(password);
  };

  return (
    <SettingsSection title="Your data" description="Take a copy of everything, or delete your account.">
      <div className="space-y-2">
        {exportError ? <ErrorAlert>{exportError}</ErrorAlert> : null}
        <p className="text-sm text-slate-700">A zip of your original files and your chats (JSON and Markdown).</p>
        <button type="button" className="btn-secondary" onClick={() => void exportData()} disabled={exporting}>
          {exporting ? "Preparing…" : "Export my data"}
        </button>
      </div>
      <form onSubmit={onDelete} noValidate className="mt-6 max-w-md space-y-4" aria-label="Delete my account">
        <p className="text-sm text-slate-700">
          Deleting your account removes your documents, chats, API keys and sign-ins for good.
        </p>
        <TextField id="delete-account-password" label="Password" type="password" autoComplete="current-password" error={passwordError} value={password} onChange={(event) => setPassword(event.target.value)} />
        <button type="submit" className="btn-danger">
          Delete my account
        </button>
      </form>
      <ConfirmDialog
        subject={confirming}
        title="Delete your account?"
        confirmLabel="Delete everything"
        onConfirm={async (typed) => {
          await accountDataApi.deleteAccount(typed);
          await signOut();
          router.replace("/login/");
        }}
        onClose={() => setConfirming(null)}
      >
        {() => <>Your documents, chats and API keys will be deleted. This cannot be undone.</>}
      </ConfirmDialog>
    </SettingsSection>
  );
}
