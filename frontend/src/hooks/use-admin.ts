"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { adminApi } from "@/lib/api/teams-client";
import type { AdminSettings, AdminUserOut, AdminUserUpdateBody, AuditFilters, InviteCreateBody } from "@/lib/api/teams-contract";

export const adminUsersKey = (q: string) => ["admin", "users", q] as const;
const ADMIN_SETTINGS_KEY = ["admin", "settings"] as const;
const ADMIN_INVITES_KEY = ["admin", "invites"] as const;
export const adminAuditKey = (filters: AuditFilters) => ["admin", "audit", filters] as const;

export function useAdminUsers(q: string) {
  return useQuery({ queryKey: adminUsersKey(q), queryFn: () => adminApi.users(q), placeholderData: (previous) => previous });
}

export function useAdminUserChanges() {
  const queryClient = useQueryClient();
  const refresh = () => void queryClient.invalidateQueries({ queryKey: ["admin", "users"] });
  const update = useMutation({
    mutationFn: ({ id, ...body }: AdminUserUpdateBody & { id: string }) => adminApi.updateUser(id, body),
    onSuccess: (updated) => {
      queryClient.setQueriesData<AdminUserOut[]>({ queryKey: ["admin", "users"] }, (users) =>
        users?.map((user) => (user.id === updated.id ? updated : user)),
      );
      refresh();
    },
  });
  const remove = useMutation({
    mutationFn: (id: string) => adminApi.deleteUser(id),
    onSuccess: (_result, id) => {
      queryClient.setQueriesData<AdminUserOut[]>({ queryKey: ["admin", "users"] }, (users) => users?.filter((user) => user.id !== id));
      refresh();
    },
  });
  return { update, remove };
}

export function useAdminSettings() {
  const queryClient = useQueryClient();
  const settings = useQuery({ queryKey: ADMIN_SETTINGS_KEY, queryFn: adminApi.settings });
  const save = useMutation({
    mutationFn: (body: AdminSettings) => adminApi.updateSettings(body),
    onSuccess: (saved) => queryClient.setQueryData(ADMIN_SETTINGS_KEY, saved),
  });
  return { settings, save };
}

export function useInvites() {
  const queryClient = useQueryClient();
  const invites = useQuery({ queryKey: ADMIN_INVITES_KEY, queryFn: adminApi.invites });
  const create = useMutation({
    mutationFn: (body: InviteCreateBody) => adminApi.createInvite(body),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ADMIN_INVITES_KEY }),
  });
  const revoke = useMutation({
    mutationFn: (id: string) => adminApi.revokeInvite(id),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ADMIN_INVITES_KEY }),
  });
  return { invites, create, revoke };
}

export function useAuditLog(filters: AuditFilters) {
  return useQuery({ queryKey: adminAuditKey(filters), queryFn: () => adminApi.audit(filters), placeholderData: (previous) => previous });
}
