import type { Metadata } from "next";
import { Suspense } from "react";
import { RequireAuth } from "@/components/auth/require-auth";
import { ViewerScreen } from "@/components/viewer/viewer-screen";
import { PageLoading } from "@/components/ui/spinner";

export const metadata: Metadata = { title: "Document" };

export default function ViewerPage() {
  return (
    <RequireAuth>
      {/* useSearchParams() (the deep link's document, page and highlights) needs a Suspense boundary in a static export. */}
      <Suspense fallback={<PageLoading />}>
        <ViewerScreen />
      </Suspense>
    </RequireAuth>
  );
}
