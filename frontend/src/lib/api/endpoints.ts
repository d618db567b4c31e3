import { dataOf } from "./client";
import { api, tokenStore } from "./index";
import type { InviteRegisterBody } from "./teams-contract";
import type {
  Chat,
  ChatCreateBody,
  ChatDetail,
  ChatUpdateBody,
  ChunkLocation,
  DocumentPage,
  DocumentRecord,
  LoginBody,
  TokenPair,
  User,
} from "./types";

const documentPath = (id: string) => ({ path: { document_id: id } });
const chatPath = (id: string) => ({ path: { chat_id: id } });

export const authApi = {
  /** `invite_token` comes from an invite link (`/register/?invite=…`), needed when registration is invite-only. */
  register: (body: InviteRegisterBody) => dataOf<User>(api.anonymous.POST("/api/v1/auth/register", { body })),

  async login(body: LoginBody): Promise<TokenPair> {
    const pair = await dataOf<TokenPair>(api.anonymous.POST("/api/v1/auth/login", { body }));
    tokenStore.setTokens(pair);
    return pair;
  },

  /** Revokes the refresh token (best effort) and forgets the tokens locally in any case. */
  async logout(): Promise<void> {
    const refreshToken = tokenStore.getRefreshToken();
    try {
      if (refreshToken) await api.anonymous.POST("/api/v1/auth/logout", { body: { refresh_token: refreshToken } });
    } finally {
      tokenStore.clear();
    }
  },

  me: () => dataOf<User>(api.http.GET("/api/v1/auth/me")),
};

export const documentsApi = {
  get: (id: string) => dataOf<DocumentRecord>(api.http.GET("/api/v1/documents/{document_id}", { params: documentPath(id) })),
  importUrl: (url: string) => dataOf<DocumentRecord>(api.http.POST("/api/v1/documents/url", { body: { url } })),
  remove: (id: string) => dataOf<undefined>(api.http.DELETE("/api/v1/documents/{document_id}", { params: documentPath(id) })),
  reindex: (id: string) =>
    dataOf<DocumentRecord>(api.http.POST("/api/v1/documents/{document_id}/reindex", { params: documentPath(id) })),
  fileUrl: (id: string) => `${api.baseUrl}/api/v1/documents/${encodeURIComponent(id)}/file`,
  pageImageUrl: (id: string, number: number) =>
    `${api.baseUrl}/api/v1/documents/${encodeURIComponent(id)}/pages/${encodeURIComponent(String(number))}/image`,
  page: (id: string, number: number) =>
    dataOf<DocumentPage>(
      api.http.GET("/api/v1/documents/{document_id}/pages/{number}", { params: { path: { document_id: id, number } } }),
    ),
  chunk: (id: string, chunkId: number) =>
    dataOf<ChunkLocation>(
      api.http.GET("/api/v1/documents/{document_id}/chunks/{chunk_id}", {
        params: { path: { document_id: id, chunk_id: chunkId } },
      }),
    ),
};

export const chatsApi = {
  list: () => dataOf<Chat[]>(api.http.GET("/api/v1/chats")),
  get: (id: string) => dataOf<ChatDetail>(api.http.GET("/api/v1/chats/{chat_id}", { params: chatPath(id) })),
  create: (body: ChatCreateBody = {}) => dataOf<Chat>(api.http.POST("/api/v1/chats", { body })),
  update: (id: string, body: ChatUpdateBody) =>
    dataOf<Chat>(api.http.PATCH("/api/v1/chats/{chat_id}", { params: chatPath(id), body })),
  remove: (id: string) => dataOf<undefined>(api.http.DELETE("/api/v1/chats/{chat_id}", { params: chatPath(id) })),
  messagesUrl: (id: string) => `${api.baseUrl}/api/v1/chats/${encodeURIComponent(id)}/messages`,
};
