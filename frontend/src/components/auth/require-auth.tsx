"use client";

import { useRouter } from "next/navigation";
import { useEffect, type ReactNode } from "react";
import { isSafeNextPath, signInPath } from "@/lib/api";
import { ErrorAlert } from "@/components/ui/alert";
import { PageLoading } from "@/components/ui/spinner";
import { useAuth } from "./auth-provider";

/** Renders its children only for a signed-in user; otherwise goes to the sign-in page. */
export function RequireAuth({ children }: { children: ReactNode }) {
  const { status, retry } = useAuth();
  const router = useRouter();

  useEffect(() => {
    if (status === "signedOut") {
      router.replace(signInPath(`${window.location.pathname}${window.location.search}`));
    }
  }, [status, router]);

  if (status === "signedIn") return <>{children}</>;
  if (status === "unreachable") {
    return (
      <div className="mx-auto mt-10 max-w-md px-4">
        <ErrorAlert>Cannot reach the server to check your session.</ErrorAlert>
        <button type="button" className="btn-secondary mt-3" onClick={retry}>
          Try again
        </button>
      </div>
    );
  }
  return <PageLoading label={status === "signedOut" ? "Redirecting to sign in…" : "Loading your session…"} />;
}

/**
 * Renders its children only for a visitor. A signed-in user (also right after signing in on
 * this page) goes to the safe `?next=` path, or to `destination`.
 */
export function RedirectIfSignedIn({ destination, children }: { destination: string; children: ReactNode }) {
  const { status } = useAuth();
  const router = useRouter();

  useEffect(() => {
    if (status !== "signedIn") return;
    const next = new URLSearchParams(window.location.search).get("next");
    router.replace(next && isSafeNextPath(next) ? next : destination);
  }, [status, router, destination]);

  if (status === "signedOut" || status === "unreachable") return <>{children}</>;
  return <PageLoading />;
}
