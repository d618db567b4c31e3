import type { Metadata } from "next";
import { ConfirmEmail } from "@/components/auth/confirm-email";

export const metadata: Metadata = { title: "Confirm email", referrer: "no-referrer" };

export default function ConfirmEmailPage() {
  return <ConfirmEmail />;
}
