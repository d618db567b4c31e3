"use client";

import Link from "next/link";
import { useEffect, useRef, useState } from "react";
import { ErrorAlert } from "@/components/ui/alert";
import { PageLoading } from "@/components/ui/spinner";
import { errorMessage } from "@/lib/api";
import { authApi } from "@/lib/api/endpoints";

/** The page an email-change link opens (/confirm-email/?token=…): the new address takes effect. */
export function ConfirmEmail() {
  const [outcome, setOutcome] = useState<{ email: string } | { error: string } | null>(null);
  const started = useRef(false);

  useEffect(() => {
    if (started.current) return;
    started.current = true;
    const token = new URLSearchParams(window.location.search).get("token");
    window.history.replaceState(null, "", window.location.pathname);
    const confirmed = token
      ? authApi.confirmEmail(token)
      : Promise.reject(new Error("This page needs the link from the confirmation email."));
    confirmed.then(
      (user) => setOutcome({ email: user.email }),
      (failure: unknown) => setOutcome({ error: errorMessage(failure) }),
    );
  }, []);

  if (outcome === null) return <PageLoading label="Confirming your address…" />;
  return (
    <div className="mx-auto mt-10 max-w-md space-y-3 px-4">
      {"error" in outcome ? (
        <ErrorAlert>{outcome.error}</ErrorAlert>
      ) : (
        <p role="status" className="text-sm text-slate-700">
          Your account now uses <strong>{outcome.email}</strong>.
        </p>
      )}
      <Link href="/settings/" className="btn-secondary inline-block">
        Go to settings
      </Link>
    </div>
  );
}
