import { describe, expect, it, vi } from "vitest";
import { createApiClient, type FetchLike } from "./client";
import { ApiError, apiErrorFromBody, errorMessage } from "./errors";
import { createTokenStore } from "./tokens";

const BASE = "http://api.test";

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });
}

const errorBody = (code: string, message: string) => ({ error: { code, message, request_id: "req-1" } });

function authHeader(init: RequestInit | undefined): string | null {
  return new Headers(init?.headers).get("Authorization");
}

/** A fake API: /documents wants the current valid token; /auth/refresh rotates tokens. */
function setup(options: { refreshStatus?: number; refreshDelayMs?: number } = {}) {
  const tokens = createTokenStore(() => window.localStorage);
  tokens.setTokens({ access_token: "old-access", refresh_token: "refresh-1" });
  let validAccess = "new-access";
  const calls: { url: string; auth: string | null }[] = [];
  let refreshCalls = 0;

  const fetchMock = vi.fn<FetchLike>(async (url, init) => {
    calls.push({ url, auth: authHeader(init) });
    if (url.endsWith("/api/v1/auth/refresh")) {
      refreshCalls += 1;
      if (options.refreshDelayMs) await new Promise((resolve) => setTimeout(resolve, options.refreshDelayMs));
      const status = options.refreshStatus ?? 200;
      if (status !== 200) return json(status, errorBody("unauthorized", "Refresh token is invalid."));
      const body = JSON.parse(String(init?.body)) as { refresh_token: string };
      expect(body.refresh_token).toBe("refresh-1");
      validAccess = "new-access";
      return json(200, { access_token: validAccess, refresh_token: "refresh-2", token_type: "bearer", expires_in: 900 });
    }
    if (authHeader(init) !== `Bearer ${validAccess}`) return json(401, errorBody("unauthorized", "Not authenticated."));
    return json(200, [{ id: "doc-1" }]);
  });

  const onSessionExpired = vi.fn();
  const client = createApiClient({ baseUrl: BASE, tokens, fetch: fetchMock, onSessionExpired });
  return { client, tokens, calls, fetchMock, onSessionExpired, refreshCount: () => refreshCalls };
}

describe("api client: expired access token", () => {
  it("refreshes once on a 401 and retries with the new token", async () => {
    const { client, tokens, calls, onSessionExpired, refreshCount } = setup();

    await expect(client.request("/api/v1/documents")).resolves.toEqual([{ id: "doc-1" }]);

    expect(refreshCount()).toBe(1);
    expect(calls.map((call) => [call.url.replace(BASE, ""), call.auth])).toEqual([
      ["/api/v1/documents", "Bearer old-access"],
      ["/api/v1/auth/refresh", null],
      ["/api/v1/documents", "Bearer new-access"],
    ]);
    expect(tokens.getAccessToken()).toBe("new-access");
    expect(tokens.getRefreshToken()).toBe("refresh-2");
    expect(onSessionExpired).not.toHaveBeenCalled();
  });

  it("shares one refresh between concurrent 401s (single flight)", async () => {
    const { client, refreshCount } = setup({ refreshDelayMs: 20 });

    const results = await Promise.all([
      client.request("/api/v1/documents"),
      client.request("/api/v1/documents"),
      client.request("/api/v1/documents"),
    ]);

    expect(results).toHaveLength(3);
    expect(refreshCount()).toBe(1);
  });

  it("does not refresh again when another request already rotated the token", async () => {
    const { client, refreshCount } = setup();
    await client.request("/api/v1/documents");
    await client.request("/api/v1/documents");
    expect(refreshCount()).toBe(1);
  });

  it("ends the session and sends the user to sign in when the refresh is refused", async () => {
    const { client, tokens, onSessionExpired, refreshCount } = setup({ refreshStatus: 401 });

    const failure = client.request("/api/v1/documents");

    await expect(failure).rejects.toBeInstanceOf(ApiError);
    await expect(failure).rejects.toMatchObject({ status: 401, code: "unauthorized" });
    expect(refreshCount()).toBe(1);
    expect(onSessionExpired).toHaveBeenCalledTimes(1);
    expect(tokens.getAccessToken()).toBeNull();
    expect(tokens.getRefreshToken()).toBeNull();
  });

  it("does not try to refresh for calls made without auth (wrong password on sign in)", async () => {
    const { client, fetchMock, onSessionExpired } = setup();
    fetchMock.mockResolvedValueOnce(json(401, errorBody("unauthorized", "Incorrect email or password.")));

    await expect(client.request("/api/v1/auth/login", { method: "POST", json: {}, auth: false })).rejects.toThrow(
      "Incorrect email or password.",
    );
    expect(fetchMock).toHaveBeenCalledTimes(1);
    expect(onSessionExpired).not.toHaveBeenCalled();
  });

  it("keeps the session when the refresh cannot reach the server", async () => {
    const { client, tokens, fetchMock, onSessionExpired } = setup();
    fetchMock.mockResolvedValueOnce(json(401, errorBody("unauthorized", "Expired.")));
    fetchMock.mockRejectedValueOnce(new TypeError("Failed to fetch"));

    await expect(client.request("/api/v1/documents")).rejects.toMatchObject({ status: 0, code: "network_error" });
    expect(onSessionExpired).not.toHaveBeenCalled();
    expect(tokens.getRefreshToken()).toBe("refresh-1");
  });
});

describe("api client: errors", () => {
  it("shows the API's message from the {error: {code, message, request_id}} shape", async () => {
    const { client, fetchMock } = setup();
    fetchMock.mockResolvedValueOnce(
      json(413, errorBody("payload_too_large", "The file is larger than 50 MB."), { "X-Request-ID": "req-9" }),
    );

    const error = await client.request("/api/v1/documents").catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 413, code: "payload_too_large", message: "The file is larger than 50 MB.", requestId: "req-1" });
    expect(errorMessage(error)).toBe("The file is larger than 50 MB.");
  });

  it("keeps the message and the details of 422 answers", () => {
    const error = apiErrorFromBody(
      422,
      JSON.stringify({
        error: {
          code: "validation_error",
          message: "password: String should have at least 10 characters",
          request_id: "r",
          details: [{ loc: ["body", "password"], message: "String should have at least 10 characters" }],
        },
      }),
    );
    expect(error.message).toBe("password: String should have at least 10 characters");
    expect(error.details?.[0]?.loc).toEqual(["body", "password"]);
  });

  it("falls back to a sentence when the body is not the API shape", () => {
    expect(apiErrorFromBody(502, "<html>Bad gateway</html>").message).toMatch(/unexpected error \(HTTP 502\)/);
    expect(apiErrorFromBody(429, "").message).toMatch(/Too many attempts/);
  });

  it("reads the API shape out of useChat's Error(responseText)", () => {
    expect(errorMessage(new Error(JSON.stringify(errorBody("not_found", "Chat not found."))))).toBe("Chat not found.");
    expect(errorMessage(new Error("The model is unavailable."))).toBe("The model is unavailable.");
  });

  it("returns undefined for 204 answers", async () => {
    const { client, fetchMock } = setup();
    fetchMock.mockResolvedValueOnce(new Response(null, { status: 204 }));
    await expect(client.request("/api/v1/documents/x", { method: "DELETE" })).resolves.toBeUndefined();
  });
});
