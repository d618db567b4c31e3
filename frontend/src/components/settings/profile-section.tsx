"use client";

import { zodResolver } from "@hookform/resolvers/zod";
import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useForm, useWatch } from "react-hook-form";
import { z } from "zod";
import { useAuth } from "@/components/auth/auth-provider";
import { ErrorAlert } from "@/components/ui/alert";
import { TextField } from "@/components/ui/text-field";
import { errorMessage, type User } from "@/lib/api";
import { accountApi } from "@/lib/api/endpoints";
import { SettingsSection } from "./settings-section";

const profileSchema = z.object({
  full_name: z.string().trim().min(1, "Enter your name.").max(200, "That name is too long."),
  email: z.email("Enter a valid email address."),
  current_password: z.string(),
});
type ProfileValues = z.infer<typeof profileSchema>;

/** Display name and email; a new email needs the current password (and, with mail, a confirmation). */
export function ProfileSection() {
  const { user } = useAuth();
  if (!user) return null;
  return <ProfileForm user={user} />;
}

function ProfileForm({ user }: { user: User }) {
  const queryClient = useQueryClient();
  const [notice, setNotice] = useState<string | null>(null);
  const [serverError, setServerError] = useState<string | null>(null);
  const {
    register,
    handleSubmit,
    control,
    setError,
    reset,
    formState: { errors, isSubmitting, isDirty },
  } = useForm<ProfileValues>({
    resolver: zodResolver(profileSchema),
    defaultValues: { full_name: user.full_name, email: user.email, current_password: "" },
  });
  const email = useWatch({ control, name: "email" });
  const emailChanged = email.trim().toLowerCase() !== user.email;

  const onSubmit = handleSubmit(async (values) => {
    setNotice(null);
    setServerError(null);
    if (emailChanged && !values.current_password) {
      setError("current_password", { message: "Enter your current password to change your email." });
      return;
    }
    try {
      const updated = await accountApi.updateProfile({
        full_name: values.full_name,
        ...(emailChanged ? { email: values.email, current_password: values.current_password } : {}),
      });
      queryClient.setQueryData(["me"], { id: updated.id, email: updated.email, full_name: updated.full_name, created_at: updated.created_at });
      reset({ full_name: updated.full_name, email: updated.email, current_password: "" });
      setNotice(
        updated.pending_email
          ? `Open the link we sent to ${updated.pending_email} to start using it. Until then you sign in with ${updated.email}.`
          : "Saved.",
      );
    } catch (error) {
      setServerError(errorMessage(error));
    }
  });

  return (
    <SettingsSection title="Profile" description="Your name as others see it, and the email you sign in with.">
      <form onSubmit={onSubmit} noValidate className="max-w-md space-y-4" aria-label="Profile">
        {serverError ? <ErrorAlert>{serverError}</ErrorAlert> : null}
        {notice ? (
          <p role="status" className="text-sm text-green-800">
            {notice}
          </p>
        ) : null}
        <TextField id="profile-name" label="Name" autoComplete="name" error={errors.full_name?.message} {...register("full_name")} />
        <TextField id="profile-email" label="Email" type="email" autoComplete="email" error={errors.email?.message} {...register("email")} />
        {emailChanged ? (
          <TextField
            id="profile-current-password"
            label="Current password"
            type="password"
            autoComplete="current-password"
            hint="Needed to change your email."
            error={errors.current_password?.message}
            {...register("current_password")}
          />
        ) : null}
        <button type="submit" className="btn-primary" disabled={isSubmitting || !isDirty}>
          {isSubmitting ? "Saving…" : "Save profile"}
        </button>
      </form>
    </SettingsSection>
  );
}
