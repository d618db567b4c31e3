import { API_BASE_URL } from "@/lib/config";
import { createApiClient } from "./client";
import { createTokenStore } from "./tokens";

export { ApiError, errorMessage } from "./errors";
export type * from "./types";

export const tokenStore = createTokenStore(() => (typeof window === "undefined" ? null : window.localStorage));

/** Path of the sign-in page with a safe "come back here" parameter. */
export function signInPath(next?: string): string {
  return next && isSafeNextPath(next) && !next.startsWith("/login") ? `/login/?next=${encodeURIComponent(next)}` : "/login/";
}

/** Only same-site absolute paths may be used as a post-login destination (no open redirect). */
export function isSafeNextPath(path: string): boolean {
  return path.startsWith("/") && !path.startsWith("//") && !path.startsWith("/\\");
}

export function redirectToSignIn(): void {
  if (typeof window === "undefined") return;
  const here = `${window.location.pathname}${window.location.search}`;
  window.location.assign(signInPath(here));
}

export const api = createApiClient({
  baseUrl: API_BASE_URL,
  tokens: tokenStore,
  onSessionExpired: redirectToSignIn,
});
