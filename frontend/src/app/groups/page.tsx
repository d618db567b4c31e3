import type { Metadata } from "next";
import { RequireAuth } from "@/components/auth/require-auth";
import { GroupsView } from "@/components/groups/groups-view";

export const metadata: Metadata = { title: "Groups" };

export default function GroupsPage() {
  return (
    <RequireAuth>
      <GroupsView />
    </RequireAuth>
  );
}
