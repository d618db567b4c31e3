"use client";

import { zodResolver } from "@hookform/resolvers/zod";
import { useState } from "react";
import { useForm } from "react-hook-form";
import { z } from "zod";
import { ErrorAlert } from "@/components/ui/alert";
import { FormField } from "@/components/ui/form-field";
import { errorMessage } from "@/lib/api";
import { useAuth } from "./auth-provider";

const MIN_PASSWORD_LENGTH = 10;

const registerSchema = z
  .object({
    full_name: z.string().trim().min(1, "Enter your name.").max(200, "That name is too long."),
    email: z.email("Enter a valid email address."),
    password: z.string().min(MIN_PASSWORD_LENGTH, `Use at least ${MIN_PASSWORD_LENGTH} characters.`),
    confirm: z.string(),
  })
  .refine((values) => values.password === values.confirm, { path: ["confirm"], message: "The passwords do not match." });

type RegisterValues = z.infer<typeof registerSchema>;

export function RegisterForm() {
  const { register: createAccount } = useAuth();
  const [serverError, setServerError] = useState<string | null>(null);
  const {
    register,
    handleSubmit,
    formState: { errors, isSubmitting },
  } = useForm<RegisterValues>({
    resolver: zodResolver(registerSchema),
    defaultValues: { full_name: "", email: "", password: "", confirm: "" },
  });

  const onSubmit = handleSubmit(async ({ full_name, email, password }) => {
    setServerError(null);
    try {
      // Signed in right away; the page's <RedirectIfSignedIn> opens the library.
      await createAccount({ full_name, email, password });
    } catch (error) {
      setServerError(errorMessage(error));
    }
  });

  return (
    <form onSubmit={onSubmit} noValidate className="space-y-4" aria-label="Create account">
      {serverError ? <ErrorAlert>{serverError}</ErrorAlert> : null}
      <FormField id="register-name" label="Full name" error={errors.full_name?.message}>
        {(describedBy) => (
          <input
            id="register-name"
            autoComplete="name"
            className="input"
            aria-invalid={errors.full_name ? true : undefined}
            aria-describedby={describedBy}
            {...register("full_name")}
          />
        )}
      </FormField>
      <FormField id="register-email" label="Email" error={errors.email?.message}>
        {(describedBy) => (
          <input
            id="register-email"
            type="email"
            autoComplete="email"
            className="input"
            aria-invalid={errors.email ? true : undefined}
            aria-describedby={describedBy}
            {...register("email")}
          />
        )}
      </FormField>
      <FormField
        id="register-password"
        label="Password"
        hint={`At least ${MIN_PASSWORD_LENGTH} characters.`}
        error={errors.password?.message}
      >
        {(describedBy) => (
          <input
            id="register-password"
            type="password"
            autoComplete="new-password"
            className="input"
            aria-invalid={errors.password ? true : undefined}
            aria-describedby={describedBy}
            {...register("password")}
          />
        )}
      </FormField>
      <FormField id="register-confirm" label="Confirm password" error={errors.confirm?.message}>
        {(describedBy) => (
          <input
            id="register-confirm"
            type="password"
            autoComplete="new-password"
            className="input"
            aria-invalid={errors.confirm ? true : undefined}
            aria-describedby={describedBy}
            {...register("confirm")}
          />
        )}
      </FormField>
      <button type="submit" className="btn-primary w-full" disabled={isSubmitting}>
        {isSubmitting ? "Creating your account…" : "Create account"}
      </button>
    </form>
  );
}
