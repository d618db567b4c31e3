"use client";

import { zodResolver } from "@hookform/resolvers/zod";
import Link from "next/link";
import { useState } from "react";
import { useForm } from "react-hook-form";
import { z } from "zod";
import { ErrorAlert } from "@/components/ui/alert";
import { TextField } from "@/components/ui/text-field";
import { ApiError, errorMessage } from "@/lib/api";
import { MIN_PASSWORD_LENGTH, PASSWORD_HINT, PASSWORD_TOO_SHORT } from "@/lib/passwords";
import { useAuth } from "./auth-provider";


const registerSchema = z
  .object({
    full_name: z.string().trim().min(1, "Enter your name.").max(200, "That name is too long."),
    email: z.email("Enter a valid email address."),
    password: z.string().min(MIN_PASSWORD_LENGTH, PASSWORD_TOO_SHORT),
    confirm: z.string(),
  })
  .refine((values) => values.password === values.confirm, { path: ["confirm"], message: "The passwords do not match." });

type RegisterValues = z.infer<typeof registerSchema>;

/** The token of an invite link (`/register/?invite=…`); the form renders in the browser only. */
function inviteTokenFromLocation(): string | null {
  if (typeof window === "undefined") return null;
  return new URLSearchParams(window.location.search).get("invite")?.trim() || null;
}

export function RegisterForm() {
  const { register: createAccount } = useAuth();
  const [serverError, setServerError] = useState<string | null>(null);
  const [accountExists, setAccountExists] = useState(false);
  const [inviteToken] = useState(inviteTokenFromLocation);
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
    setAccountExists(false);
    try {
      // Signed in right away; the page's <RedirectIfSignedIn> opens the library.
      await createAccount({ full_name, email, password, ...(inviteToken ? { invite_token: inviteToken } : {}) });
    } catch (error) {
      setServerError(errorMessage(error));
      setAccountExists(error instanceof ApiError && error.status === 409);
    }
  });

  return (
    <form onSubmit={onSubmit} noValidate className="space-y-4" aria-label="Create account">
      {inviteToken ? (
        <p className="rounded-md border border-blue-200 bg-blue-50 px-3 py-2 text-sm text-blue-900" data-testid="invite-notice">
          You were invited: create your account below.
        </p>
      ) : null}
      {serverError ? (
        <ErrorAlert>
          {serverError}
          {accountExists ? (
            <>
              {" "}
              <Link href="/login/" className="font-medium underline">
                Sign in
              </Link>{" "}
              with it, or use another address.
            </>
          ) : null}
        </ErrorAlert>
      ) : null}
      <TextField
        id="register-name"
        label="Full name"
        autoComplete="name"
        error={errors.full_name?.message}
        {...register("full_name")}
      />
      <TextField
        id="register-email"
        label="Email"
        type="email"
        autoComplete="email"
        error={errors.email?.message}
        {...register("email")}
      />
      <TextField
        id="register-password"
        label="Password"
        type="password"
        autoComplete="new-password"
        hint={PASSWORD_HINT}
        error={errors.password?.message}
        {...register("password")}
      />
      <TextField
        id="register-confirm"
        label="Confirm password"
        type="password"
        autoComplete="new-password"
        error={errors.confirm?.message}
        {...register("confirm")}
      />
      <button type="submit" className="btn-primary w-full" disabled={isSubmitting}>
        {isSubmitting ? "Creating your account…" : "Create account"}
      </button>
    </form>
  );
}
