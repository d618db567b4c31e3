"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect, useRef, useState } from "react";
import { ErrorAlert } from "@/components/ui/alert";
import { PageLoading } from "@/components/ui/spinner";
import { errorMessage } from "@/lib/api";
import { useAuth } from "./auth-provider";

/**
 * Where the API's single sign-on callback sends the browser: /sso/#code=<one-time code>. The
 * code sits in the fragment, which no server receives; it is removed from the address bar at
 * once and traded for the session's tokens (POST /api/v1/auth/oidc/exchange, single use).
 */
export function SsoComplete() {
  const { signInWithSsoCode } = useAuth();
  const router = useRouter();
  const [error, setError] = useState<string | null>(null);
  const started = useRef(false);

  useEffect(() => {
    if (started.current) return;
    started.current = true;
    const code = new URLSearchParams(window.location.hash.replace(/^#/, "")).get("code");
    window.history.replaceState(null, "", window.location.pathname);
    const signedIn = code
      ? signInWithSsoCode(code)
      : Promise.reject(new Error("This page finishes a single sign-on, and there is none to finish."));
    signedIn.then(
      () => router.replace("/chat/"),
      (failure: unknown) => setError(errorMessage(failure)),
    );
  }, [signInWithSsoCode, router]);

  if (error) {
    return (
      <div className="mx-auto mt-10 max-w-md space-y-3 px-4">
        <ErrorAlert>{error}</ErrorAlert>
        <Link href="/login/" className="btn-secondary inline-block">
          Back to sign in
        </Link>
      </div>
    );
  }
  return <PageLoading label="Signing you in…" />;
}
