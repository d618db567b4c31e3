"use client";

import { zodResolver } from "@hookform/resolvers/zod";
import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useForm } from "react-hook-form";
import { z } from "zod";
import { ErrorAlert } from "@/components/ui/alert";
import { TextField } from "@/components/ui/text-field";
import { errorMessage } from "@/lib/api";
import { accountApi } from "@/lib/api/endpoints";
import { PASSWORD_HINT, newPasswordSchema } from "@/lib/passwords";
import { SettingsSection } from "./settings-section";
import { SESSIONS_QUERY } from "./sessions-section";

const changeSchema = z.intersection(z.object({ current: z.string().min(1, "Enter your current password.") }), newPasswordSchema);
type ChangeValues = z.infer<typeof changeSchema>;

/** Change the password; every other signed-in device is signed out. */
export function PasswordSection() {
  const queryClient = useQueryClient();
  const [notice, setNotice] = useState<string | null>(null);
  const [serverError, setServerError] = useState<string | null>(null);
  const {
    register,
    handleSubmit,
    reset,
    formState: { errors, isSubmitting },
  } = useForm<ChangeValues>({ resolver: zodResolver(changeSchema), defaultValues: { current: "", password: "", confirm: "" } });

  const onSubmit = handleSubmit(async (values) => {
    setNotice(null);
    setServerError(null);
    try {
      await accountApi.changePassword({ current_password: values.current, new_password: values.password });
      reset();
      setNotice("Password changed. Your other devices have been signed out.");
      await queryClient.invalidateQueries({ queryKey: SESSIONS_QUERY });
    } catch (error) {
      setServerError(errorMessage(error));
    }
  });

  return (
    <SettingsSection title="Password" description="Changing it signs you out everywhere else.">
      <form onSubmit={onSubmit} noValidate className="max-w-md space-y-4" aria-label="Change password">
        {serverError ? <ErrorAlert>{serverError}</ErrorAlert> : null}
        {notice ? (
          <p role="status" className="text-sm text-green-800">
            {notice}
          </p>
        ) : null}
        <TextField id="password-current" label="Current password" type="password" autoComplete="current-password" error={errors.current?.message} {...register("current")} />
        <TextField id="password-new" label="New password" type="password" autoComplete="new-password" hint={PASSWORD_HINT} error={errors.password?.message} {...register("password")} />
        <TextField id="password-confirm" label="Repeat the new password" type="password" autoComplete="new-password" error={errors.confirm?.message} {...register("confirm")} />
        <button type="submit" className="btn-primary" disabled={isSubmitting}>
          {isSubmitting ? "Changing…" : "Change password"}
        </button>
      </form>
    </SettingsSection>
  );
}
