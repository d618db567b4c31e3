"use client";

import { useChat } from "@ai-sdk/react";
import { useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useRef, useState } from "react";
import { ErrorAlert } from "@/components/ui/alert";
import { errorMessage, type ChatDetail, type Citation } from "@/lib/api";
import { chatsApi } from "@/lib/api/endpoints";
import { toChatMessage, toChatMessages, type DocChatMessage } from "@/lib/chat/messages";
import { takePendingQuestion } from "@/lib/chat/pending-question";
import { scopeFields, scopeOfChat, type ChatScope } from "@/lib/chat/scope";
import { createChatTransport } from "@/lib/chat/transport";
import type { ScopedChat } from "@/lib/api/teams-contract";
import { CHATS_KEY, useChats, useUpdateChat } from "@/hooks/use-chats";
import { ChatStart } from "./chat-start";
import { Composer } from "./composer";
import { ExportMenu } from "./export-menu";
import { MessageBubble } from "./message-bubble";
import { ChatModelPicker } from "./model-picker";
import { ScopePicker } from "./scope-picker";
import { SourcePanel } from "./source-panel";
import { UNTITLED_CHAT } from "./conversation-list";

const STATUS_TEXT = {
  submitted: "Searching your documents…",
  streaming: "Writing the answer…",
  ready: "",
  error: "The answer could not be completed.",
} as const;
// How often an answer the server is still writing (after a reload) is read back.
export const POLL_INTERVAL_MS = 1000;

/** One conversation: stored messages, the streamed answer, citations and the source panel. */
export function ChatView({ chat }: { chat: ChatDetail & Pick<ScopedChat, "collection_id"> }) {
  const queryClient = useQueryClient();
  const updateChat = useUpdateChat();
  const chats = useChats();
  // The list holds the latest title (renamed here, in the list, or named after the first question).
  const title = (chats.data?.find((item) => item.id === chat.id) ?? chat).title.trim() || UNTITLED_CHAT;
  const [transport] = useState(() => createChatTransport(chat.id));
  const [initialMessages] = useState(() => toChatMessages(chat.messages));
  const [scope, setScope] = useState<ChatScope>(() => scopeOfChat(chat));
  const [activeCitation, setActiveCitation] = useState<Citation | null>(null);
  const [answeredHere, setAnsweredHere] = useState(false);
  const endRef = useRef<HTMLDivElement>(null);
  const composerRef = useRef<HTMLTextAreaElement>(null);

  const [actionError, setActionError] = useState<string | null>(null);
  // The conversation as the API shows it (stored ids, versions, statuses) replaces the one
  // useChat built while streaming.
  const setMessagesRef = useRef<(messages: DocChatMessage[]) => void>(() => undefined);
  const reloadMessages = useCallback(async () => {
    try {
      const detail = await chatsApi.get(chat.id);
      setMessagesRef.current(toChatMessages(detail.messages));
    } catch (caught) {
      setActionError(errorMessage(caught));
    }
  }, [chat.id]);

  const { messages, setMessages, sendMessage, regenerate, status, stop, error, clearError } = useChat<DocChatMessage>({
    id: chat.id,
    messages: initialMessages,
    transport,
    experimental_throttle: 40,
    onFinish: () => {
      setAnsweredHere(true);
      void queryClient.invalidateQueries({ queryKey: CHATS_KEY });
      void reloadMessages();
    },
    onError: () => void reloadMessages(),
  });
  useEffect(() => {
    setMessagesRef.current = setMessages;
  }, [setMessages]);
  const localBusy = status === "submitted" || status === "streaming";
  // An answer the server is writing that this page did not ask for (a reload mid-answer).
  const writtenElsewhere = localBusy ? undefined : messages.findLast((m) => m.role === "assistant" && m.metadata?.status === "streaming")?.id;
  const busy = localBusy || writtenElsewhere !== undefined;

  useEffect(() => {
    if (!writtenElsewhere) return;
    let cancelled = false;
    const timer = window.setInterval(() => {
      chatsApi.message(chat.id, writtenElsewhere).then(
        (stored) => {
          if (!cancelled) setMessages((current) => current.map((m) => (m.id === stored.id ? toChatMessage(stored) : m)));
        },
        (caught: unknown) => {
          if (!cancelled) setActionError(errorMessage(caught));
        },
      );
    }, POLL_INTERVAL_MS);
    return () => {
      cancelled = true;
      window.clearInterval(timer);
    };
  }, [chat.id, writtenElsewhere, setMessages]);

  const selectVersion = useCallback(
    (messageId: string) => {
      setActionError(null);
      chatsApi.selectVersion(chat.id, messageId).then(
        (detail) => setMessages(toChatMessages(detail.messages)),
        (caught: unknown) => setActionError(errorMessage(caught)),
      );
    },
    [chat.id, setMessages],
  );

  const stopAnswer = () => {
    const answer = messages.findLast((m) => m.role === "assistant");
    void stop();
    if (answer) {
      chatsApi.stop(chat.id, answer.id).then(
        () => reloadMessages(),
        (caught: unknown) => setActionError(errorMessage(caught)),
      );
    }
  };

  const { mutate: updateChatSettings } = updateChat;
  const send = useCallback(
    (text: string, questionScope: ChatScope, replaces?: string) => {
      clearError();
      // The API names an untitled chat after its first question; onFinish refreshes the list.
      void sendMessage(replaces ? { text, messageId: replaces } : { text }, { body: scopeFields(questionScope) });
    },
    [clearError, sendMessage],
  );
  // The answer a Regenerate replaces goes away with its button: the new one's button gets the focus.
  const [focusRegenerate, setFocusRegenerate] = useState(false);
  const ask = (text: string, replaces?: string) => {
    setActionError(null);
    setFocusRegenerate(false);
    send(text, scope, replaces);
  };
  const regenerateAnswer = (messageId: string) => {
    clearError();
    setActionError(null);
    setFocusRegenerate(true);
    void regenerate({ messageId });
  };

  // A question typed on the start screen, before this chat existed; the focus stays in the
  // question box (the start screen's box it was in is gone).
  useEffect(() => {
    const pending = takePendingQuestion(chat.id);
    if (!pending) return;
    send(pending.text, pending.scope);
    composerRef.current?.focus();
  }, [chat.id, send]);

  // Follow the answer as it grows.
  const lastMessage = messages[messages.length - 1];
  const lastLength = lastMessage?.parts.reduce((sum, part) => sum + (part.type === "text" ? part.text.length : 0), 0) ?? 0;
  useEffect(() => {
    endRef.current?.scrollIntoView({ block: "end" });
  }, [messages.length, lastLength]);

  // The chat remembers its scope: the next visit, and the next question, search the same documents.
  const changeScope = (next: ChatScope) => {
    setScope(next);
    updateChatSettings({ id: chat.id, ...scopeFields(next) });
  };

  const closeSource = useCallback(() => setActiveCitation(null), []);
  const statusText = status === "ready" ? (answeredHere ? "Answer complete." : "") : STATUS_TEXT[status];

  return (
    <div className="flex min-h-0 flex-1">
      <div className="flex min-w-0 flex-1 flex-col">
        <div className="flex items-center gap-2 border-b border-slate-200 bg-white px-4 py-2">
          <h1 className="min-w-0 flex-1 truncate text-sm font-semibold text-slate-900">{title}</h1>
          {messages.length > 0 ? <ExportMenu chatId={chat.id} /> : null}
        </div>
        <div className={`min-h-0 flex-1 overflow-y-auto px-3 py-4 sm:px-6 ${messages.length === 0 ? "flex flex-col" : ""}`} data-testid="messages">
          {messages.length === 0 ? (
            <ChatStart scope={scope} onAsk={(question) => ask(question)} disabled={busy} headingLevel={2} />
          ) : (
            <ol className="mx-auto max-w-3xl space-y-4" aria-label="Messages">
              {messages.map((message, index) => (
                <MessageBubble
                  key={message.id}
                  message={message}
                  chatId={chat.id}
                  streaming={localBusy && index === messages.length - 1 && message.role === "assistant"}
                  busy={busy}
                  onCite={setActiveCitation}
                  onSelectVersion={selectVersion}
                  onRegenerate={message.role === "assistant" ? () => regenerateAnswer(message.id) : undefined}
                  focusRegenerate={focusRegenerate && index === messages.length - 1}
                  onEdit={message.role === "user" ? (text) => ask(text, message.id) : undefined}
                />
              ))}
              {status === "submitted" && lastMessage?.role === "user" ? (
                <li className="text-sm text-slate-600">Searching your documents…</li>
              ) : null}
            </ol>
          )}
          <div ref={endRef} />
        </div>
        <div className="border-t border-slate-200 bg-white px-3 py-3 sm:px-6">
          <div className="mx-auto max-w-3xl space-y-2">
            <p role="status" aria-live="polite" className="sr-only" data-testid="chat-status">
              {statusText}
            </p>
            {error && lastMessage?.metadata?.status !== "failed" ? <ErrorAlert>{errorMessage(error)}</ErrorAlert> : null}
            {actionError ? <ErrorAlert>{actionError}</ErrorAlert> : null}
            <Composer ref={composerRef} onSend={(text) => ask(text)} onStop={stopAnswer} busy={busy} />
            <ScopePicker scope={scope} onChange={changeScope} disabled={busy} />
            <ChatModelPicker chat={chat} disabled={busy} />
          </div>
        </div>
      </div>
      {activeCitation ? <SourcePanel citation={activeCitation} onClose={closeSource} /> : null}
    </div>
  );
}
