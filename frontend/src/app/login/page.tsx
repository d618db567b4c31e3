import type { Metadata } from "next";
import Link from "next/link";
import { AuthCard } from "@/components/auth/auth-card";
import { LoginForm } from "@/components/auth/login-form";
import { RedirectIfSignedIn } from "@/components/auth/require-auth";

export const metadata: Metadata = { title: "Sign in" };

export default function LoginPage() {
  return (
    <RedirectIfSignedIn destination="/chat/">
      <AuthCard
        title="Sign in"
        subtitle="Ask questions about your documents."
        footer={
          <>
            No account yet?{" "}
            <Link href="/register/" className="font-medium text-blue-700 underline">
              Create one
            </Link>
          </>
        }
      >
        <LoginForm />
      </AuthCard>
    </RedirectIfSignedIn>
  );
}
