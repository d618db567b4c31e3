"use client";

import { useQuery, useQueryClient } from "@tanstack/react-query";
import { createContext, useCallback, useContext, useMemo, useSyncExternalStore, type ReactNode } from "react";
import { ApiError, tokenStore, type User } from "@/lib/api";
import { authApi } from "@/lib/api/endpoints";
import type { InviteRegisterBody } from "@/lib/api/teams-contract";

export type AuthStatus = "loading" | "signedIn" | "signedOut" | "unreachable";

type AuthContextValue = {
  status: AuthStatus;
  user: User | null;
  signIn: (credentials: { email: string; password: string }) => Promise<void>;
  /** Finishes a single sign-on with the one-time code the API's callback handed over. */
  signInWithSsoCode: (code: string) => Promise<void>;
  register: (account: InviteRegisterBody) => Promise<void>;
  signOut: () => Promise<void>;
  retry: () => void;
};

const AuthContext = createContext<AuthContextValue | null>(null);

const subscribe = (listener: () => void) => tokenStore.subscribe(listener);
const hasSessionSnapshot = () => tokenStore.getRefreshToken() !== null;
/** During the static prerender and hydration nobody knows yet: undefined. */
const serverSnapshot = () => undefined;

export function AuthProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const hasSession = useSyncExternalStore<boolean | undefined>(subscribe, hasSessionSnapshot, serverSnapshot);

  const me = useQuery({
    queryKey: ["me"],
    queryFn: authApi.me,
    enabled: hasSession === true,
    staleTime: 5 * 60_000,
    retry: (failureCount, error) => error instanceof ApiError && error.status === 0 && failureCount < 2,
  });

  let status: AuthStatus;
  if (hasSession === undefined) status = "loading";
  else if (!hasSession) status = "signedOut";
  else if (me.data) status = "signedIn";
  else if (me.isError) status = me.error instanceof ApiError && me.error.status === 401 ? "signedOut" : "unreachable";
  else status = "loading";

  const signIn = useCallback(
    async (credentials: { email: string; password: string }) => {
      queryClient.clear();
      await authApi.login(credentials);
      await queryClient.fetchQuery({ queryKey: ["me"], queryFn: authApi.me });
    },
    [queryClient],
  );

  const signInWithSsoCode = useCallback(
    async (code: string) => {
      queryClient.clear();
      await authApi.exchangeSsoCode(code);
      await queryClient.fetchQuery({ queryKey: ["me"], queryFn: authApi.me });
    },
    [queryClient],
  );

  const register = useCallback(
    async (account: InviteRegisterBody) => {
      await authApi.register(account);
      await signIn({ email: account.email, password: account.password });
    },
    [signIn],
  );

  const signOut = useCallback(async () => {
    try {
      await authApi.logout();
    } finally {
      queryClient.clear();
    }
  }, [queryClient]);

  const { refetch } = me;
  const value = useMemo<AuthContextValue>(
    () => ({
      status,
      user: status === "signedIn" ? (me.data ?? null) : null,
      signIn,
      signInWithSsoCode,
      register,
      signOut,
      retry: () => void refetch(),
    }),
    [status, me.data, signIn, signInWithSsoCode, register, signOut, refetch],
  );

  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthContextValue {
  const value = useContext(AuthContext);
  if (!value) throw new Error("useAuth must be used inside <AuthProvider>");
  return value;
}
