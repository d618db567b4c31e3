import type { Metadata } from "next";
import { RequireAuth } from "@/components/auth/require-auth";
import { LibraryView } from "@/components/library/library-view";

export const metadata: Metadata = { title: "Library" };

export default function LibraryPage() {
  return (
    <RequireAuth>
      <LibraryView />
    </RequireAuth>
  );
}
