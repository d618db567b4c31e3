import type { Metadata } from "next";
import { Suspense } from "react";
import { RequireAuth } from "@/components/auth/require-auth";
import { LibraryView } from "@/components/library/library-view";
import { PageLoading } from "@/components/ui/spinner";

export const metadata: Metadata = { title: "Library" };

export default function LibraryPage() {
  return (
    <RequireAuth>
      {/* useSearchParams() (the ?collection= that is open) needs a Suspense boundary in a static export. */}
      <Suspense fallback={<PageLoading />}>
        <LibraryView />
      </Suspense>
    </RequireAuth>
  );
}
