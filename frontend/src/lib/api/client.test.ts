import { describe, expect, it, vi } from "vitest";
import { createApiClient, dataOf, type FetchLike } from "./client";
import { ApiError, apiErrorFromBody, errorMessage } from "./errors";
import { createTokenStore } from "./tokens";
import type { Chat, DocumentRecord } from "./types";

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

/** The JSON body a request was sent with (the typed client sends it as bytes). */
function sentJson(init: RequestInit | undefined): unknown {
  const body = init?.body;
  if (body == null) return undefined;
  return JSON.parse(typeof body === "string" ? body : new TextDecoder().decode(body as ArrayBuffer));
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
      expect(sentJson(init)).toEqual({ refresh_token: "refresh-1" });
      validAccess = "new-access";
      return json(200, { access_token: validAccess, refresh_token: "refresh-2", token_type: "bearer", expires_in: 900 });
    }
    if (authHeader(init) !== `Bearer ${validAccess}`) return json(401, errorBody("unauthorized", "Not authenticated."));
    return json(200, [{ id: "doc-1" }]);
  });

  const onSessionExpired = vi.fn();
  const client = createApiClient({ baseUrl: BASE, tokens, fetch: fetchMock, onSessionExpired });
  const listDocuments = () => dataOf<DocumentRecord[]>(client.http.GET("/api/v1/documents"));
  return { client, listDocuments, tokens, calls, fetchMock, onSessionExpired, refreshCount: () => refreshCalls };
}

describe("api client: expired access token", () => {
  it("refreshes once on a 401 and retries with the new token", async () => {
    const { listDocuments, tokens, calls, onSessionExpired, refreshCount } = setup();

    await expect(listDocuments()).resolves.toEqual([{ id: "doc-1" }]);

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

  it("sends the same JSON body again when it retries after the refresh", async () => {
    const { client, fetchMock } = setup();
    const created: Chat = {
      id: "chat-1",
      title: "Budget",
      document_ids: ["doc-1"],
      collection_id: null,
      created_at: "2026-01-01T00:00:00Z",
      updated_at: "2026-01-01T00:00:00Z",
    };
    fetchMock.mockResolvedValueOnce(json(401, errorBody("unauthorized", "Expired.")));
    fetchMock.mockResolvedValueOnce(json(200, { access_token: "new-access", refresh_token: "refresh-2", token_type: "bearer", expires_in: 900 }));
    fetchMock.mockResolvedValueOnce(json(201, created));

    const chat = await dataOf<Chat>(client.http.POST("/api/v1/chats", { body: { title: "Budget", document_ids: ["doc-1"] } }));

    expect(chat).toEqual(created);
    expect(fetchMock.mock.calls.map(([url, init]) => [url.replace(BASE, ""), authHeader(init)])).toEqual([
      ["/api/v1/chats", "Bearer old-access"],
      ["/api/v1/auth/refresh", null],
      ["/api/v1/chats", "Bearer new-access"],
    ]);
    const chatCalls = fetchMock.mock.calls.filter(([url]) => url.endsWith("/api/v1/chats"));
    expect(chatCalls.map(([, init]) => sentJson(init))).toEqual([
      { title: "Budget", document_ids: ["doc-1"] },
      { title: "Budget", document_ids: ["doc-1"] },
    ]);
    expect(new Headers(chatCalls[1]?.[1]?.headers).get("Content-Type")).toBe("application/json");
  });

  it("shares one refresh between concurrent 401s (single flight)", async () => {
    const { listDocuments, refreshCount } = setup({ refreshDelayMs: 20 });

    const results = await Promise.all([
      listDocuments(),
      listDocuments(),
      listDocuments(),
    ]);

    expect(results).toHaveLength(3);
    expect(refreshCount()).toBe(1);
  });

  it("does not refresh again when another request already rotated the token", async () => {
    const { listDocuments, refreshCount } = setup();
    await listDocuments();
    await listDocuments();
    expect(refreshCount()).toBe(1);
  });

  it("ends the session and sends the user to sign in when the refresh is refused", async () => {
    const { listDocuments, tokens, onSessionExpired, refreshCount } = setup({ refreshStatus: 401 });

    const failure = listDocuments();

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

    const login = client.anonymous.POST("/api/v1/auth/login", { body: { email: "a@example.com", password: "wrong-password" } });
    await expect(login).rejects.toThrow("Incorrect email or password.");
    expect(fetchMock).toHaveBeenCalledTimes(1);
    expect(onSessionExpired).not.toHaveBeenCalled();
  });

  it("keeps the session when the refresh cannot reach the server", async () => {
    const { listDocuments, tokens, fetchMock, onSessionExpired } = setup();
    fetchMock.mockResolvedValueOnce(json(401, errorBody("unauthorized", "Expired.")));
    fetchMock.mockRejectedValueOnce(new TypeError("Failed to fetch"));

    await expect(listDocuments()).rejects.toMatchObject({ status: 0, code: "network_error" });
    expect(onSessionExpired).not.toHaveBeenCalled();
    expect(tokens.getRefreshToken()).toBe("refresh-1");
  });
});

describe("api client: errors", () => {
  it("shows the API's message from the {error: {code, message, request_id}} shape", async () => {
    const { listDocuments, fetchMock } = setup();
    fetchMock.mockResolvedValueOnce(
      json(413, errorBody("payload_too_large", "The file is larger than 50 MB."), { "X-Request-ID": "req-9" }),
    );

    const error = await listDocuments().catch((caught: unknown) => caught);

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
    const removal = client.http.DELETE("/api/v1/documents/{document_id}", { params: { path: { document_id: "x" } } });
    await expect(dataOf<undefined>(removal)).resolves.toBeUndefined();
    expect(fetchMock.mock.calls[0]?.[0]).toBe(`${BASE}/api/v1/documents/x`);
    expect(fetchMock.mock.calls[0]?.[1]?.method).toBe("DELETE");
  });
});
