import createClient, { type Middleware } from "openapi-fetch";
import type { Readable } from "openapi-typescript-helpers";
import { ApiError, apiErrorFromResponse, networkError } from "./errors";
import type { paths } from "./schema";
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

/**
 * openapi-fetch hands over a Request, whose body can be sent once; its body is read into
 * memory so that the retry after a token refresh can send it again (API bodies are small
 * JSON; uploads go through XMLHttpRequest, see lib/upload.ts).
 */
export async function requestInit(request: Request): Promise<RequestInit> {
  return {
    method: request.method,
    headers: request.headers,
    body: request.body === null ? undefined : await request.arrayBuffer(),
    signal: request.signal,
  };
}

/** Non-2xx answers become an ApiError carrying the API's message, so callers only see data. */
export const throwApiErrors: Middleware = {
  async onResponse({ response }) {
    if (!response.ok) throw await apiErrorFromResponse(response);
    return undefined;
  },
};

/**
 * The data of an openapi-fetch call (errors were thrown by throwApiErrors), as the schema's
 * type `T`. The compiler checks `T` against the call: openapi-fetch reports it as Readable<T>,
 * which is `T` with tuples widened to arrays (snippet_highlights' `[start, end]` pairs).
 */
export async function dataOf<T>(call: Promise<{ data?: Readable<T>; response: Response }>): Promise<T> {
  const { data } = await call;
  return data as T;
}

export function createApiClient(options: ApiClientOptions) {
  const { baseUrl, tokens, onSessionExpired } = options;
  const doFetch: FetchLike = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const withRefreshLock = options.withRefreshLock ?? defaultRefreshLock;

  /** The refresh in progress in this tab: concurrent 401s all wait for this one promise. */
  let refreshInFlight: Promise<string> | null = null;

  async function send(url: string, init: RequestInit): Promise<Response> {
    try {
      return await doFetch(url, init);
    } catch (cause) {
      if (init.signal?.aborted) throw cause;
      throw networkError(cause);
    }
  }

  async function callRefreshEndpoint(failedToken: string | null): Promise<string> {
    return withRefreshLock(async () => {
      // Another tab may have rotated the tokens while we waited for the lock: use its result
      // instead of replaying a refresh token that the server has already consumed.
      const current = tokens.getAccessToken();
      if (current && current !== failedToken) return current;
      const refreshToken = tokens.getRefreshToken();
      if (!refreshToken) throw new ApiError({ status: 401, code: "unauthorized", message: "You are signed out." });
      const pair = await dataOf<TokenPair>(anonymous.POST(REFRESH_PATH, { body: { refresh_token: refreshToken } }));
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
   * Returns the raw Response (used by the typed client, file downloads and the answer stream).
   */
  async function authorizedFetch(url: string, init: RequestInit = {}): Promise<Response> {
    const sentToken = tokens.getAccessToken();
    let response = await send(url, withAuthorization(init, sentToken));
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
    response = await send(url, withAuthorization(init, freshToken));
    if (response.status === 401) expireSession();
    return response;
  }

  /** Typed calls with the session's token (renewed on a 401); failures throw ApiError. */
  const http = createClient<paths>({
    baseUrl,
    headers: { Accept: "application/json" },
    fetch: async (request) => authorizedFetch(request.url, await requestInit(request)),
  });
  http.use(throwApiErrors);

  /** Typed calls made without a session (sign in, register, refresh, sign out). */
  const anonymous = createClient<paths>({
    baseUrl,
    headers: { Accept: "application/json" },
    fetch: async (request) => send(request.url, await requestInit(request)),
  });
  anonymous.use(throwApiErrors);

  return { baseUrl, tokens, http, anonymous, authorizedFetch, refreshAccessToken };
}
