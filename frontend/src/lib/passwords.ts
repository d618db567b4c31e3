import { z } from "zod";

/** The API's minimum (backend app/auth/schemas.py MIN_PASSWORD_LENGTH). */
export const MIN_PASSWORD_LENGTH = 10;

/** A new password typed twice: `password` and its `confirm`ation must match. */
export const newPasswordSchema = z
  .object({
    password: z.string().min(MIN_PASSWORD_LENGTH, `Use at least ${MIN_PASSWORD_LENGTH} characters.`),
    confirm: z.string(),
  })
  .refine((values) => values.password === values.confirm, { path: ["confirm"], message: "The passwords do not match." });
