import { dataOf } from "./client";
import { api, tokenStore } from "./index";
import type { InviteRegisterBody } from "./teams-contract";
import type {
  ApiKey,
  ApiKeyCreateBody,
  ApiKeyCreated,
  AuthConfig,
  Chat,
  ChatCreateBody,
  ChatDetail,
  ChatListItem,
  ChatUpdateBody,
  ChunkLocation,
  DocumentPage,
  DocumentRecord,
  Feedback,
  FeedbackBody,
  ModelChoices,
  LoginBody,
  PasswordChangeBody,
  Profile,
  ProfileBody,
  SessionInfo,
  StoredMessage,
  ScopeSuggestions,
  TokenPair,
  User,
} from "./types";

const documentPath = (id: string) => ({ path: { document_id: id } });
const chatPath = (id: string) => ({ path: { chat_id: id } });
const messagePath = (chatId: string, messageId: string) => ({ path: { chat_id: chatId, message_id: messageId } });

/** What the conversation list shows: the active or the archived chats, all or those matching `q`. */
export type ChatListQuery = { q?: string; archived?: boolean };

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

  config: () => dataOf<AuthConfig>(api.anonymous.GET("/api/v1/auth/oidc/config")),

  /** Where the "Sign in with …" link goes: the API redirects to the provider. */
  ssoLoginUrl: () => `${api.baseUrl}/api/v1/auth/oidc/login`,

  /** Trades the one-time code of a single sign-on for the session's tokens, and keeps them. */
  async exchangeSsoCode(code: string): Promise<TokenPair> {
    const pair = await dataOf<TokenPair>(api.anonymous.POST("/api/v1/auth/oidc/exchange", { body: { code } }));
    tokenStore.setTokens(pair);
    return pair;
  },

  requestPasswordReset: (email: string) =>
    dataOf<undefined>(api.anonymous.POST("/api/v1/auth/password-reset", { body: { email } })),
  confirmPasswordReset: (token: string, newPassword: string) =>
    dataOf<undefined>(
      api.anonymous.POST("/api/v1/auth/password-reset/confirm", { body: { token, new_password: newPassword } }),
    ),
  confirmEmail: (token: string) => dataOf<User>(api.anonymous.POST("/api/v1/auth/email/confirm", { body: { token } })),
};

export const accountApi = {
  updateProfile: (body: ProfileBody) => dataOf<Profile>(api.http.PATCH("/api/v1/auth/me", { body })),
  changePassword: (body: PasswordChangeBody) => dataOf<undefined>(api.http.POST("/api/v1/auth/password", { body })),
  sessions: () => dataOf<SessionInfo[]>(api.http.GET("/api/v1/auth/sessions")),
  revokeSession: (id: string) =>
    dataOf<undefined>(api.http.DELETE("/api/v1/auth/sessions/{session_id}", { params: { path: { session_id: id } } })),
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
  list: ({ q, archived }: ChatListQuery = {}) =>
    dataOf<ChatListItem[]>(
      api.http.GET("/api/v1/chats", { params: { query: { ...(q ? { q } : {}), ...(archived ? { archived: true } : {}) } } }),
    ),
  get: (id: string) => dataOf<ChatDetail>(api.http.GET("/api/v1/chats/{chat_id}", { params: chatPath(id) })),
  create: (body: ChatCreateBody = {}) => dataOf<Chat>(api.http.POST("/api/v1/chats", { body })),
  update: (id: string, body: ChatUpdateBody) =>
    dataOf<Chat>(api.http.PATCH("/api/v1/chats/{chat_id}", { params: chatPath(id), body })),
  remove: (id: string) => dataOf<undefined>(api.http.DELETE("/api/v1/chats/{chat_id}", { params: chatPath(id) })),
  rate: (chatId: string, messageId: string, body: FeedbackBody) =>
    dataOf<Feedback>(
      api.http.PUT("/api/v1/chats/{chat_id}/messages/{message_id}/feedback", { params: messagePath(chatId, messageId), body }),
    ),
  clearRating: (chatId: string, messageId: string) =>
    dataOf<undefined>(
      api.http.DELETE("/api/v1/chats/{chat_id}/messages/{message_id}/feedback", { params: messagePath(chatId, messageId) }),
    ),
  models: () => dataOf<ModelChoices>(api.http.GET("/api/v1/models")),
  /** Questions to start a chat with this scope (GET /suggested-questions takes the ids comma-separated). */
  suggestedQuestions: ({ collection_id, document_ids }: { collection_id: string | null; document_ids: string[] | null }) =>
    dataOf<ScopeSuggestions>(
      api.http.GET("/api/v1/suggested-questions", {
        params: {
          query: { ...(collection_id ? { collection_id } : {}), ...(document_ids?.length ? { document_ids: document_ids.join(",") } : {}) },
        },
      }),
    ),
  messagesUrl: (id: string) => `${api.baseUrl}/api/v1/chats/${encodeURIComponent(id)}/messages`,
  regenerateUrl: (id: string, messageId: string) =>
    `${api.baseUrl}/api/v1/chats/${encodeURIComponent(id)}/messages/${encodeURIComponent(messageId)}/regenerate`,
  exportUrl: (id: string, format: "markdown" | "json") =>
    `${api.baseUrl}/api/v1/chats/${encodeURIComponent(id)}/export?format=${format}`,
  message: (id: string, messageId: string) =>
    dataOf<StoredMessage>(
      api.http.GET("/api/v1/chats/{chat_id}/messages/{message_id}", { params: messagePath(id, messageId) }),
    ),
  selectVersion: (id: string, messageId: string) =>
    dataOf<ChatDetail>(
      api.http.POST("/api/v1/chats/{chat_id}/messages/{message_id}/select", { params: messagePath(id, messageId) }),
    ),
  stop: (id: string, messageId: string) =>
    dataOf<undefined>(
      api.http.POST("/api/v1/chats/{chat_id}/messages/{message_id}/stop", { params: messagePath(id, messageId) }),
    ),
};

export const apiKeysApi = {
  list: () => dataOf<ApiKey[]>(api.http.GET("/api/v1/api-keys")),
  create: (body: ApiKeyCreateBody) => dataOf<ApiKeyCreated>(api.http.POST("/api/v1/api-keys", { body })),
  revoke: (id: string) => dataOf<undefined>(api.http.DELETE("/api/v1/api-keys/{key_id}", { params: { path: { key_id: id } } })),
};

export const accountDataApi = {
  /** Deletes the account and everything in it; the caller signs out afterwards. */
  deleteAccount: (password: string) => dataOf<undefined>(api.http.DELETE("/api/v1/auth/me", { body: { password } })),
  exportUrl: () => `${api.baseUrl}/api/v1/auth/me/export`,
};
