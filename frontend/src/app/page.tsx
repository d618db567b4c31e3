"use client";

import { useRouter } from "next/navigation";
import { useEffect } from "react";
import { useAuth } from "@/components/auth/auth-provider";
import { PageLoading } from "@/components/ui/spinner";

export default function HomePage() {
  const { status } = useAuth();
  const router = useRouter();

  useEffect(() => {
    if (status === "signedIn") router.replace("/chat/");
    else if (status === "signedOut" || status === "unreachable") router.replace("/login/");
  }, [status, router]);

  return <PageLoading />;
}
