import type { Metadata } from "next";
import Link from "next/link";
import { Suspense } from "react";
import { AuthCard } from "@/components/auth/auth-card";
import { RedirectIfSignedIn } from "@/components/auth/require-auth";
import { SignInOptions } from "@/components/auth/sign-in-options";

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
        <Suspense fallback={null}>
          <SignInOptions />
        </Suspense>
      </AuthCard>
    </RedirectIfSignedIn>
  );
}
