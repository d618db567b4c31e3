"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useSearchParams } from "next/navigation";
import { ErrorAlert } from "@/components/ui/alert";
import { authApi } from "@/lib/api/endpoints";
import { LoginForm } from "./login-form";

export const AUTH_CONFIG_QUERY = ["auth-config"] as const;

/**
 * The sign-in page's choices: "Sign in with <provider>" when single sign-on is configured, the
 * password form unless password sign-in is turned off, and the way to a forgotten password.
 * Uses the query string: render it inside <Suspense>.
 */
export function SignInOptions() {
  const config = useQuery({ queryKey: AUTH_CONFIG_QUERY, queryFn: authApi.config, staleTime: 5 * 60_000 });
  // Why a single sign-on failed: the API's callback sends the browser to /login/?sso_error=…
  const ssoError = useSearchParams().get("sso_error");

  // Until the API answers, offer the password form (the common case, and the only one offline).
  const sso = config.data?.enabled ? config.data : null;
  const passwordLogin = config.data?.password_login_enabled ?? true;

  return (
    <div className="space-y-4">
      {ssoError ? <ErrorAlert>{ssoError}</ErrorAlert> : null}
      {sso ? (
        <a href={authApi.ssoLoginUrl()} className="btn-primary flex w-full justify-center">
          Sign in with {sso.provider_name}
        </a>
      ) : null}
      {sso && passwordLogin ? (
        <p className="text-center text-xs uppercase tracking-wide text-slate-600" aria-hidden="true">
          or
        </p>
      ) : null}
      {passwordLogin ? (
        <>
          <LoginForm />
          <p className="text-center text-sm">
            <Link href="/forgot-password/" className="font-medium text-blue-700 underline">
              Forgot your password?
            </Link>
          </p>
        </>
      ) : null}
    </div>
  );
}
