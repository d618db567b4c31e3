import type { TokenPair } from "./types";

/*
 * Token storage trade-off (documented on purpose):
 * - The refresh token (30 days, rotated on every use, replay revokes the family) is kept in
 *   localStorage so a session survives reloads and new tabs of a static site that has no
 *   server of its own to set an httpOnly cookie. The cost: any script running on this origin
 *   could read it, so XSS must be prevented elsewhere: answers and documents are rendered
 *   through rehype-sanitize, original files open as inert blobs, and a Content-Security-Policy
 *   limits where scripts come from and where data may be sent.
 * - The access token (15 minutes) is kept in memory and mirrored to localStorage so a reload
 *   does not spend a refresh round trip. Its short lifetime bounds the damage of a leak.
 *   When storage is unavailable both tokens live in memory only (session ends with the tab).
 * - localStorage is the source of truth so that several tabs share one session and one
 *   rotation of the refresh token (see client.ts).
 * A backend-set httpOnly, SameSite=strict refresh cookie would be stronger; it needs the API
 * and the frontend on the same site, which this deployment model does not guarantee.
 */

const ACCESS_KEY = "docchat.access_token";
const REFRESH_KEY = "docchat.refresh_token";

export type TokenStore = {
  getAccessToken(): string | null;
  getRefreshToken(): string | null;
  setTokens(pair: Pick<TokenPair, "access_token" | "refresh_token">): void;
  clear(): void;
  /** Called whenever tokens change, in this tab or (through storage events) another one. */
  subscribe(listener: () => void): () => void;
};

export function createTokenStore(getStorage: () => Storage | null): TokenStore {
  // In-memory copies: used when storage is unavailable (private mode, disabled storage).
  let memoryAccess: string | null = null;
  let memoryRefresh: string | null = null;
  const listeners = new Set<() => void>();

  const hasStorage = (): boolean => {
    try {
      const storage = getStorage();
      if (!storage) return false;
      storage.getItem(REFRESH_KEY);
      return true;
    } catch {
      return false;
    }
  };
  const read = (key: string): string | null => {
    try {
      return getStorage()?.getItem(key) ?? null;
    } catch {
      return null;
    }
  };
  const write = (key: string, value: string | null) => {
    try {
      const storage = getStorage();
      if (!storage) return;
      if (value === null) storage.removeItem(key);
      else storage.setItem(key, value);
    } catch {
      // Storage full or disabled (private mode): the session then lasts as long as the tab.
    }
  };
  const notify = () => listeners.forEach((listener) => listener());

  return {
    getAccessToken() {
      // Storage wins when it is usable, so a rotation done by another tab is seen here.
      return hasStorage() ? read(ACCESS_KEY) : memoryAccess;
    },
    getRefreshToken() {
      return hasStorage() ? read(REFRESH_KEY) : memoryRefresh;
    },
    setTokens(pair) {
      memoryAccess = pair.access_token;
      memoryRefresh = pair.refresh_token;
      write(ACCESS_KEY, pair.access_token);
      write(REFRESH_KEY, pair.refresh_token);
      notify();
    },
    clear() {
      memoryAccess = null;
      memoryRefresh = null;
      write(ACCESS_KEY, null);
      write(REFRESH_KEY, null);
      notify();
    },
    subscribe(listener) {
      listeners.add(listener);
      const onStorage = (event: StorageEvent) => {
        if (event.key === null || event.key === ACCESS_KEY || event.key === REFRESH_KEY) listener();
      };
      if (typeof window !== "undefined") window.addEventListener("storage", onStorage);
      return () => {
        listeners.delete(listener);
        if (typeof window !== "undefined") window.removeEventListener("storage", onStorage);
      };
    },
  };
}
