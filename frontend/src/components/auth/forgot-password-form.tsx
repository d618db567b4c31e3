"use client";

import { zodResolver } from "@hookform/resolvers/zod";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useForm } from "react-hook-form";
import { z } from "zod";
import { ErrorAlert } from "@/components/ui/alert";
import { TextField } from "@/components/ui/text-field";
import { errorMessage } from "@/lib/api";
import { authApi } from "@/lib/api/endpoints";
import { AUTH_CONFIG_QUERY } from "./sign-in-options";

const forgotSchema = z.object({ email: z.email("Enter a valid email address.") });
type ForgotValues = z.infer<typeof forgotSchema>;

/** Without reset mail, an administrator sets a password on the server. */
export function AdminResetInstructions() {
  return (
    <div className="space-y-3 text-sm text-slate-700" role="note" aria-label="How to get a new password">
      <p>This DocChat does not send email, so a password cannot be reset from here.</p>
      <p>Ask the person who runs it to set a temporary password for you on the server:</p>
      <pre className="overflow-x-auto rounded-md bg-slate-100 px-3 py-2 font-mono text-xs text-slate-900">
        docchat reset-password you@example.com
      </pre>
      <p>Sign in with it, then choose your own under Settings.</p>
    </div>
  );
}

export function ForgotPasswordForm() {
  const config = useQuery({ queryKey: AUTH_CONFIG_QUERY, queryFn: authApi.config, staleTime: 5 * 60_000 });
  const [sentTo, setSentTo] = useState<string | null>(null);
  const [serverError, setServerError] = useState<string | null>(null);
  const {
    register,
    handleSubmit,
    formState: { errors, isSubmitting },
  } = useForm<ForgotValues>({ resolver: zodResolver(forgotSchema), defaultValues: { email: "" } });

  const onSubmit = handleSubmit(async ({ email }) => {
    setServerError(null);
    try {
      await authApi.requestPasswordReset(email);
      setSentTo(email);
    } catch (error) {
      setServerError(errorMessage(error));
    }
  });

  if (config.isPending) return <p role="status" className="text-sm text-slate-600">Loading…</p>;
  if (config.isError) return <ErrorAlert>{errorMessage(config.error)}</ErrorAlert>;
  if (!config.data.password_reset_by_email) return <AdminResetInstructions />;
  if (sentTo) {
    return (
      <p role="status" className="text-sm text-slate-700">
        If an account uses <strong>{sentTo}</strong>, a link to choose a new password is on its way. It works once, for
        a limited time. Check your spam folder if nothing arrives.
      </p>
    );
  }
  return (
    <form onSubmit={onSubmit} noValidate className="space-y-4" aria-label="Reset password">
      {serverError ? <ErrorAlert>{serverError}</ErrorAlert> : null}
      <TextField id="forgot-email" label="Email" type="email" autoComplete="email" error={errors.email?.message} {...register("email")} />
      <button type="submit" className="btn-primary w-full" disabled={isSubmitting}>
        {isSubmitting ? "Sending…" : "Send reset link"}
      </button>
    </form>
  );
}
