"use client";

import { zodResolver } from "@hookform/resolvers/zod";
import Link from "next/link";
import { useSearchParams } from "next/navigation";
import { useState } from "react";
import { useForm } from "react-hook-form";
import type { z } from "zod";
import { ErrorAlert } from "@/components/ui/alert";
import { TextField } from "@/components/ui/text-field";
import { errorMessage } from "@/lib/api";
import { authApi } from "@/lib/api/endpoints";
import { PASSWORD_HINT, newPasswordSchema } from "@/lib/passwords";

type ResetValues = z.infer<typeof newPasswordSchema>;

/**
 * The page the reset email links to (/reset-password/?token=…): choose the new password.
 * Uses the query string: render it inside <Suspense>.
 */
export function ResetPasswordForm() {
  const token = useSearchParams().get("token");
  const [done, setDone] = useState(false);
  const [serverError, setServerError] = useState<string | null>(null);
  const {
    register,
    handleSubmit,
    formState: { errors, isSubmitting },
  } = useForm<ResetValues>({ resolver: zodResolver(newPasswordSchema), defaultValues: { password: "", confirm: "" } });

  const onSubmit = handleSubmit(async ({ password }) => {
    if (!token) return;
    setServerError(null);
    try {
      await authApi.confirmPasswordReset(token, password);
      // The link works once: keep it out of the history from now on.
      window.history.replaceState(null, "", window.location.pathname);
      setDone(true);
    } catch (error) {
      setServerError(errorMessage(error));
    }
  });

  if (done) {
    return (
      <div role="status" className="space-y-3 text-sm text-slate-700">
        <p>Your password has been changed, and every device that was signed in has been signed out.</p>
        <Link href="/login/" className="btn-primary flex w-full justify-center">
          Sign in
        </Link>
      </div>
    );
  }
  if (!token) {
    return (
      <ErrorAlert>
        This page needs the link from the reset email. <Link href="/forgot-password/" className="underline">Ask for a new one</Link>.
      </ErrorAlert>
    );
  }
  return (
    <form onSubmit={onSubmit} noValidate className="space-y-4" aria-label="Choose a new password">
      {serverError ? (
        <ErrorAlert>
          {serverError} <Link href="/forgot-password/" className="underline">Ask for a new link</Link>.
        </ErrorAlert>
      ) : null}
      <TextField
        id="reset-password"
        label="New password"
        type="password"
        autoComplete="new-password"
        hint={PASSWORD_HINT}
        error={errors.password?.message}
        {...register("password")}
      />
      <TextField id="reset-confirm" label="Repeat the new password" type="password" autoComplete="new-password" error={errors.confirm?.message} {...register("confirm")} />
      <button type="submit" className="btn-primary w-full" disabled={isSubmitting}>
        {isSubmitting ? "Saving…" : "Set new password"}
      </button>
    </form>
  );
}
