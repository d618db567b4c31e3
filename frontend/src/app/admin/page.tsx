import type { Metadata } from "next";
import { AdminConsole } from "@/components/admin/admin-console";
import { RequireAuth } from "@/components/auth/require-auth";

export const metadata: Metadata = { title: "Admin" };

export default function AdminPage() {
  return (
    <RequireAuth>
      <AdminConsole />
    </RequireAuth>
  );
}
