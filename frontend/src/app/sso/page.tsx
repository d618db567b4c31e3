import type { Metadata } from "next";
import { SsoComplete } from "@/components/auth/sso-complete";

export const metadata: Metadata = { title: "Signing in", referrer: "no-referrer" };

export default function SsoPage() {
  return <SsoComplete />;
}
