/**
 * Names for the API's shapes. They are aliases of the types generated from the backend's
 * OpenAPI document (schema.d.ts, `make client`), so they cannot drift from what it sends.
 */
import type { components } from "./schema";

type Schemas = components["schemas"];

export type User = Schemas["UserOut"];
export type TokenPair = Schemas["TokenPair"];
export type RegisterBody = Schemas["RegisterIn"];
export type LoginBody = Schemas["LoginIn"];
/** What the sign-in page offers: single sign-on, password sign-in, reset by email. */
export type AuthConfig = Schemas["AuthConfigOut"];
export type Profile = Schemas["ProfileOut"];
export type ProfileBody = Schemas["ProfileIn"];
export type PasswordChangeBody = Schemas["PasswordChangeIn"];
/** A signed-in device (a refresh-token family). */
export type SessionInfo = Schemas["SessionOut"];

export type DocumentRecord = Schemas["DocumentOut"];
export type DocumentPage = Schemas["PageOut"];
export type ChunkLocation = Schemas["ChunkLocationOut"];
/** A word of an OCR page: offsets into the page text, box in fractions of the page (origin top left). */
export type WordBox = Schemas["WordBoxOut"];

export type Chat = Schemas["ChatOut"];
/** A chat as GET /chats lists it; with `q`, its best match as plain text and ranges. */
export type ChatListItem = Schemas["ChatListItem"];
export type ChatSnippet = Schemas["ChatSnippet"];
/** Your rating of an answer (PUT /chats/{id}/messages/{id}/feedback). */
export type Feedback = Schemas["FeedbackOut"];
export type FeedbackBody = Schemas["FeedbackIn"];
/** The chat models to choose from (LLM_MODELS) and the default answerer. */
export type ModelChoices = Schemas["ModelsOut"];
export type ModelChoice = Schemas["ModelOut"];
/** Questions to start a chat with a scope, and the ready documents they are about (none: nothing ready). */
export type ScopeSuggestions = Schemas["ScopeSuggestionsOut"];
export type ChatDetail = Schemas["ChatDetail"];
export type ChatCreateBody = Schemas["ChatCreate"];
export type ChatUpdateBody = Schemas["ChatUpdate"];
export type StoredMessage = Schemas["MessageOut"];
// The passage types are named by where they appear rather than by their schema names, which
// follow the backend's Pydantic classes: the answer stream sends the same Citation objects.
export type Citation = StoredMessage["citations"][number];
/** A span of a page's stored text (GET /documents/{id}/pages/{page}) to mark. */
export type Highlight = ChunkLocation["highlights"][number];
/** The body of POST /chats/{id}/messages (answered as a stream, sent by the AI SDK). */
export type MessageBody = Schemas["MessageIn"];

/** A personal API key as listed (the key itself is shown once, at creation). */
export type ApiKey = Schemas["ApiKeyOut"];
export type ApiKeyCreated = Schemas["ApiKeyCreated"];
export type ApiKeyCreateBody = Schemas["ApiKeyCreate"];
