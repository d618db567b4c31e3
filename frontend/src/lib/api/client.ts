import { ApiError, apiErrorFromResponse, networkError } from "./errors";
import type { TokenStore } from "./tokens";
import type { TokenPair } from "./types";

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export type ApiClientOptions = {
  baseUrl: string;
  tokens: TokenStore;
  fetch?: FetchLike;
  /** Called once the session cannot be renewed (refresh rejected): send the user to sign in. */
  onSessionExpired: () => void;
  /** Cross-tab mutual exclusion for the refresh call; defaults to the Web Locks API when present. */
  withRefreshLock?: <T>(task: () => Promise<T>) => Promise<T>;
};

export type RequestOptions = {
  method?: "GET" | "POST" | "PATCH" | "PUT" | "DELETE";
  /** JSON-serialised into the body. */
  json?: unknown;
  body?: BodyInit;
  /** Send the Authorization header and renew the session on 401 (default true). */
  auth?: boolean;
  signal?: AbortSignal;
  headers?: Record<string, string>;
};

export type ApiClient = ReturnType<typeof createApiClient>;

const REFRESH_PATH = "/api/v1/auth/refresh";

function defaultRefreshLock<T>(task: () => Promise<T>): Promise<T> {
  const locks = typeof navigator !== "undefined" ? navigator.locks : undefined;
  if (!locks) return task();
  return locks.request("docchat-token-refresh", task);
}

function withAuthorization(init: RequestInit, token: string | null): RequestInit {
  const headers = new Headers(init.headers);
  if (token) headers.set("Authorization", `Bearer ${token}`);
  else headers.delete("Authorization");
  return { ...init, headers };
}

export function createApiClient(options: ApiClientOptions) {
  const { baseUrl, tokens, onSessionExpired } = options;
  const doFetch: FetchLike = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const withRefreshLock = options.withRefreshLock ?? defaultRefreshLock;

  /** The refresh in progress in this tab: concurrent 401s all wait for this one promise. */
  let refreshInFlight: Promise<string> | null = null;

  async function callRefreshEndpoint(failedToken: string | null): Promise<string> {
    return withRefreshLock(async () => {
      // Another tab may have rotated the tokens while we waited for the lock: use its result
      // instead of replaying a refresh token that the server has already consumed.
      const current = tokens.getAccessToken();
      if (current && current !== failedToken) return current;
      const refreshToken = tokens.getRefreshToken();
      if (!refreshToken) throw new ApiError({ status: 401, code: "unauthorized", message: "You are signed out." });
      let response: Response;
      try {
        response = await doFetch(`${baseUrl}${REFRESH_PATH}`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ refresh_token: refreshToken }),
        });
      } catch (cause) {
        throw networkError(cause);
      }
      if (!response.ok) throw await apiErrorFromResponse(response);
      const pair = (await response.json()) as TokenPair;
      tokens.setTokens(pair);
      return pair.access_token;
    });
  }

  /** Renews the access token once for everyone who is waiting (single flight). */
  function refreshAccessToken(failedToken: string | null): Promise<string> {
    if (!refreshInFlight) {
      refreshInFlight = callRefreshEndpoint(failedToken).finally(() => {
        refreshInFlight = null;
      });
    }
    return refreshInFlight;
  }

  function expireSession() {
    tokens.clear();
    onSessionExpired();
  }

  /**
   * fetch() with the access token; on a 401 renews the token once (shared by concurrent
   * callers), retries once, and ends the session if the retry is refused too.
   * Returns the raw Response (used for JSON, file downloads and the answer stream).
   */
  async function authorizedFetch(url: string, init: RequestInit = {}): Promise<Response> {
    const sentToken = tokens.getAccessToken();
    let response: Response;
    try {
      response = await doFetch(url, withAuthorization(init, sentToken));
    } catch (cause) {
      if (init.signal?.aborted) throw cause;
      throw networkError(cause);
    }
    if (response.status !== 401) return response;

    let freshToken: string;
    try {
      const current = tokens.getAccessToken();
      freshToken = current && current !== sentToken ? current : await refreshAccessToken(sentToken);
    } catch (error) {
      if (error instanceof ApiError && error.status === 0) throw error; // offline: keep the session
      expireSession();
      return response;
    }
    try {
      response = await doFetch(url, withAuthorization(init, freshToken));
    } catch (cause) {
      if (init.signal?.aborted) throw cause;
      throw networkError(cause);
    }
    if (response.status === 401) expireSession();
    return response;
  }

  /** A JSON API call; throws ApiError with the server's message on failure. */
  async function request<T>(path: string, opts: RequestOptions = {}): Promise<T> {
    const headers: Record<string, string> = { Accept: "application/json", ...opts.headers };
    let body = opts.body;
    if (opts.json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(opts.json);
    }
    const init: RequestInit = { method: opts.method ?? "GET", headers, body, signal: opts.signal };
    const url = `${baseUrl}${path}`;
    let response: Response;
    if (opts.auth === false) {
      try {
        response = await doFetch(url, init);
      } catch (cause) {
        throw networkError(cause);
      }
    } else {
      response = await authorizedFetch(url, init);
    }
    if (!response.ok) throw await apiErrorFromResponse(response);
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  return { baseUrl, tokens, request, authorizedFetch, refreshAccessToken };
}
