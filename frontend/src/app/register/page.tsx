import type { Metadata } from "next";
import Link from "next/link";
import { AuthCard } from "@/components/auth/auth-card";
import { RegisterForm } from "@/components/auth/register-form";
import { RedirectIfSignedIn } from "@/components/auth/require-auth";

export const metadata: Metadata = { title: "Create account" };

export default function RegisterPage() {
  return (
    <RedirectIfSignedIn destination="/library/">
      <AuthCard
        title="Create your account"
        subtitle="Upload documents, then ask questions and get answers with sources."
        footer={
          <>
            Already registered?{" "}
            <Link href="/login/" className="font-medium text-blue-700 underline">
              Sign in
            </Link>
          </>
        }
      >
        <RegisterForm />
      </AuthCard>
    </RedirectIfSignedIn>
  );
}
