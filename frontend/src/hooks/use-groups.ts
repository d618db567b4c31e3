"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { groupsApi } from "@/lib/api/teams-client";

export const GROUPS_KEY = ["groups"] as const;
export const groupMembersKey = (id: string) => ["group", id, "members"] as const;

/** Groups the user owns or belongs to. */
export function useGroups() {
  return useQuery({ queryKey: GROUPS_KEY, queryFn: groupsApi.list });
}

export function useGroupMembers(id: string | null) {
  return useQuery({
    queryKey: groupMembersKey(id ?? ""),
    queryFn: () => groupsApi.members(id ?? ""),
    enabled: id !== null,
  });
}

export function useGroupChanges() {
  const queryClient = useQueryClient();
  const refresh = (groupId?: string) => {
    void queryClient.invalidateQueries({ queryKey: GROUPS_KEY });
    if (groupId) void queryClient.invalidateQueries({ queryKey: groupMembersKey(groupId) });
    // What a user may read follows group membership.
    void queryClient.invalidateQueries({ queryKey: ["collections"] });
  };
  const create = useMutation({ mutationFn: (name: string) => groupsApi.create(name), onSuccess: () => refresh() });
  const rename = useMutation({
    mutationFn: ({ id, name }: { id: string; name: string }) => groupsApi.rename(id, name),
    onSuccess: (_result, { id }) => refresh(id),
  });
  const remove = useMutation({ mutationFn: (id: string) => groupsApi.remove(id), onSuccess: () => refresh() });
  const addMember = useMutation({
    mutationFn: ({ id, email }: { id: string; email: string }) => groupsApi.addMember(id, email),
    onSuccess: (_result, { id }) => refresh(id),
  });
  const removeMember = useMutation({
    mutationFn: ({ id, userId }: { id: string; userId: string }) => groupsApi.removeMember(id, userId),
    onSuccess: (_result, { id }) => refresh(id),
  });
  return { create, rename, remove, addMember, removeMember };
}
