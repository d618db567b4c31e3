"use client";

import { useRouter, useSearchParams } from "next/navigation";
import { useState } from "react";
import { ErrorAlert } from "@/components/ui/alert";
import { PageLoading } from "@/components/ui/spinner";
import { ApiError, errorMessage } from "@/lib/api";
import { leavePendingQuestion } from "@/lib/chat/pending-question";
import { ALL_DOCUMENTS, scopeFields, type ChatScope } from "@/lib/chat/scope";
import { useChatDetail, useCreateChat } from "@/hooks/use-chats";
import { ChatView } from "./chat-view";
import { ConversationList } from "./conversation-list";
import { StartChatPanel } from "./start-chat-panel";

/** Conversation list + the open conversation (`/chat/?id=…`), collapsing to one column on phones. */
export function ChatScreen() {
  const searchParams = useSearchParams();
  const chatId = searchParams.get("id");
  const startCollection = searchParams.get("collection");
  const startDocument = searchParams.get("document");
  const router = useRouter();
  const createChat = useCreateChat();
  const detail = useChatDetail(chatId);
  const [listOpenOnPhone, setListOpenOnPhone] = useState(false);

  const openChat = (id: string) => {
    setListOpenOnPhone(false);
    router.push(`/chat/?id=${encodeURIComponent(id)}`);
  };

  const startChat = (question?: string, scope: ChatScope = ALL_DOCUMENTS, model: string | null = null) => {
    createChat.mutate({ ...scopeFields(scope), model }, {
      onSuccess: (chat) => {
        if (question) leavePendingQuestion(chat.id, question, scope);
        openChat(chat.id);
      },
    });
  };

  let content;
  if (chatId === null) {
    content = (
      <StartChatPanel
        key={startCollection ?? startDocument ?? "all"}
        initialScope={
          startCollection
            ? { kind: "collection", collectionId: startCollection }
            : startDocument
              ? { kind: "documents", documentIds: [startDocument] }
              : ALL_DOCUMENTS
        }
        onStart={(question, scope, model) => startChat(question, scope, model)}
        starting={createChat.isPending}
        error={createChat.isError ? errorMessage(createChat.error) : null}
      />
    );
  } else if (detail.isError) {
    const missing = detail.error instanceof ApiError && detail.error.status === 404;
    content = (
      <div className="mx-auto mt-10 max-w-md px-4">
        <ErrorAlert>{missing ? "This conversation does not exist or was deleted." : errorMessage(detail.error)}</ErrorAlert>
      </div>
    );
  } else if (!detail.data || !detail.isFetchedAfterMount) {
    content = <PageLoading label="Loading conversation…" />;
  } else {
    content = <ChatView key={detail.data.id} chat={detail.data} />;
  }

  return (
    <div className="flex h-[calc(100dvh-3.5rem)] min-h-0">
      <div
        id="conversation-list"
        className={`${listOpenOnPhone ? "flex" : "hidden"} w-full shrink-0 flex-col border-r border-slate-200 bg-white md:flex md:w-72`}
      >
        <div className="border-b border-slate-200 px-3 py-2 md:hidden">
          <button type="button" className="btn-ghost border border-slate-300" onClick={() => setListOpenOnPhone(false)}>
            <span aria-hidden="true">←</span> Back to the conversation
          </button>
        </div>
        <ConversationList
          activeId={chatId}
          onNewChat={() => startChat()}
          creating={createChat.isPending}
          onDeleted={(id) => {
            if (id === chatId) router.replace("/chat/");
          }}
          onNavigate={() => setListOpenOnPhone(false)}
        />
      </div>
      <section className={`${listOpenOnPhone ? "hidden" : "flex"} min-w-0 flex-1 flex-col md:flex`} aria-label="Conversation">
        <div className="border-b border-slate-200 bg-white px-3 py-2 md:hidden">
          <button
            type="button"
            className="btn-ghost border border-slate-300"
            aria-expanded={listOpenOnPhone}
            aria-controls="conversation-list"
            onClick={() => setListOpenOnPhone(true)}
          >
            <span aria-hidden="true">☰</span> Conversations
          </button>
        </div>
        {content}
      </section>
    </div>
  );
}
