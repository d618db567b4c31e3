import { z } from "zod";

/** The API's minimum (backend app/auth/schemas.py MIN_PASSWORD_LENGTH). */
export const MIN_PASSWORD_LENGTH = 10;

/** Shown under every new-password field; the error below it then only says what is wrong. */
export const PASSWORD_HINT = `At least ${MIN_PASSWORD_LENGTH} characters.`;
export const PASSWORD_TOO_SHORT = "This password is too short.";

/** A new password typed twice: `password` and its `confirm`ation must match. */
export const newPasswordSchema = z
  .object({
    password: z.string().min(MIN_PASSWORD_LENGTH, PASSWORD_TOO_SHORT),
    confirm: z.string(),
  })
  .refine((values) => values.password === values.confirm, { path: ["confirm"], message: "The passwords do not match." });
