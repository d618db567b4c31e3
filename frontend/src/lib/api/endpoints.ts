import { api, tokenStore } from "./index";
import type { Chat, ChatDetail, ChunkLocation, DocumentPage, DocumentRecord, TokenPair, User } from "./types";

export const authApi = {
  register: (body: { email: string; password: string; full_name: string }) =>
    api.request<User>("/api/v1/auth/register", { method: "POST", json: body, auth: false }),

  async login(body: { email: string; password: string }): Promise<TokenPair> {
    const pair = await api.request<TokenPair>("/api/v1/auth/login", { method: "POST", json: body, auth: false });
    tokenStore.setTokens(pair);
    return pair;
  },

  /** Revokes the refresh token (best effort) and forgets the tokens locally in any case. */
  async logout(): Promise<void> {
    const refreshToken = tokenStore.getRefreshToken();
    try {
      if (refreshToken) {
        await api.request<void>("/api/v1/auth/logout", { method: "POST", json: { refresh_token: refreshToken }, auth: false });
      }
    } finally {
      tokenStore.clear();
    }
  },

  me: () => api.request<User>("/api/v1/auth/me"),
};

export const documentsApi = {
  list: () => api.request<DocumentRecord[]>("/api/v1/documents"),
  get: (id: string) => api.request<DocumentRecord>(`/api/v1/documents/${encodeURIComponent(id)}`),
  remove: (id: string) => api.request<void>(`/api/v1/documents/${encodeURIComponent(id)}`, { method: "DELETE" }),
  reindex: (id: string) =>
    api.request<DocumentRecord>(`/api/v1/documents/${encodeURIComponent(id)}/reindex`, { method: "POST" }),
  fileUrl: (id: string) => `${api.baseUrl}/api/v1/documents/${encodeURIComponent(id)}/file`,
  pageImageUrl: (id: string, number: number) =>
    `${api.baseUrl}/api/v1/documents/${encodeURIComponent(id)}/pages/${encodeURIComponent(String(number))}/image`,
  page: (id: string, number: number) =>
    api.request<DocumentPage>(`/api/v1/documents/${encodeURIComponent(id)}/pages/${encodeURIComponent(String(number))}`),
  chunk: (id: string, chunkId: string | number) =>
    api.request<ChunkLocation>(`/api/v1/documents/${encodeURIComponent(id)}/chunks/${encodeURIComponent(String(chunkId))}`),
};

export const chatsApi = {
  list: () => api.request<Chat[]>("/api/v1/chats"),
  get: (id: string) => api.request<ChatDetail>(`/api/v1/chats/${encodeURIComponent(id)}`),
  create: (body: { title?: string; document_ids?: string[] | null } = {}) =>
    api.request<Chat>("/api/v1/chats", { method: "POST", json: body }),
  update: (id: string, body: { title?: string; document_ids?: string[] | null }) =>
    api.request<Chat>(`/api/v1/chats/${encodeURIComponent(id)}`, { method: "PATCH", json: body }),
  remove: (id: string) => api.request<void>(`/api/v1/chats/${encodeURIComponent(id)}`, { method: "DELETE" }),
  messagesUrl: (id: string) => `${api.baseUrl}/api/v1/chats/${encodeURIComponent(id)}/messages`,
};
