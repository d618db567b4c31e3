"use client";

import Link from "next/link";
import { useRef, useState, type FormEvent } from "react";
import { ErrorAlert } from "@/components/ui/alert";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { Spinner } from "@/components/ui/spinner";
import { errorMessage, type Chat } from "@/lib/api";
import { useChats, useDeleteChat, useUpdateChat } from "@/hooks/use-chats";

export const UNTITLED_CHAT = "New conversation";

type ConversationListProps = {
  activeId: string | null;
  onNewChat: () => void;
  creating: boolean;
  onDeleted: (id: string) => void;
  onNavigate?: () => void;
};

function RenameForm({ chat, onDone }: { chat: Chat; onDone: () => void }) {
  const updateChat = useUpdateChat();
  const [title, setTitle] = useState(chat.title);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const trimmed = title.trim();
    if (!trimmed || trimmed === chat.title) return onDone();
    updateChat.mutate({ id: chat.id, title: trimmed }, { onSuccess: onDone });
  };
  return (
    <form onSubmit={submit} className="space-y-1 p-1">
      <label htmlFor={`rename-${chat.id}`} className="sr-only">
        New title
      </label>
      <input
        id={`rename-${chat.id}`}
        className="input py-1"
        value={title}
        maxLength={200}
        autoFocus
        onChange={(event) => setTitle(event.target.value)}
        onKeyDown={(event) => {
          if (event.key === "Escape") onDone();
        }}
      />
      {updateChat.isError ? <p className="text-xs text-red-700">{errorMessage(updateChat.error)}</p> : null}
      <div className="flex gap-1">
        <button type="submit" className="btn-ghost" disabled={updateChat.isPending}>
          Save
        </button>
        <button type="button" className="btn-ghost" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}

/** Conversations, newest activity first, with new / rename / delete. */
export function ConversationList({ activeId, onNewChat, creating, onDeleted, onNavigate }: ConversationListProps) {
  const chats = useChats();
  const deleteChat = useDeleteChat();
  const [renamingId, setRenamingId] = useState<string | null>(null);
  // The Rename button the focus returns to once its form closes (Save, Cancel or Escape).
  const [renamedId, setRenamedId] = useState<string | null>(null);
  const [pendingDelete, setPendingDelete] = useState<Chat | null>(null);
  const newChatButton = useRef<HTMLButtonElement>(null);

  const deleteConversation = async (chat: Chat) => {
    await deleteChat.mutateAsync(chat.id);
    onDeleted(chat.id);
  };

  return (
    <nav aria-label="Conversations" className="flex h-full flex-col">
      <div className="p-3">
        <button ref={newChatButton} type="button" className="btn-primary w-full" onClick={onNewChat} disabled={creating}>
          {creating ? <Spinner className="h-4 w-4" /> : <span aria-hidden="true">+</span>}
          New chat
        </button>
      </div>
      <div className="min-h-0 flex-1 overflow-y-auto px-2 pb-3">
        {chats.isPending ? (
          <p className="p-2 text-sm text-slate-600">Loading conversations…</p>
        ) : chats.isError ? (
          <ErrorAlert>{errorMessage(chats.error)}</ErrorAlert>
        ) : chats.data.length === 0 ? (
          <p className="p-2 text-sm text-slate-600">No conversations yet.</p>
        ) : (
          <ul className="space-y-0.5">
            {chats.data.map((chat) => {
              const active = chat.id === activeId;
              const title = chat.title.trim() || UNTITLED_CHAT;
              if (renamingId === chat.id) {
                return (
                  <li key={chat.id}>
                    <RenameForm
                      chat={chat}
                      onDone={() => {
                        setRenamingId(null);
                        setRenamedId(chat.id);
                      }}
                    />
                  </li>
                );
              }
              return (
                <li key={chat.id} className={`group flex items-center rounded-md ${active ? "bg-blue-50" : "hover:bg-slate-100"}`}>
                  <Link
                    href={`/chat/?id=${encodeURIComponent(chat.id)}`}
                    aria-current={active ? "page" : undefined}
                    onClick={onNavigate}
                    className={`min-w-0 flex-1 truncate px-2 py-2 text-sm ${active ? "font-medium text-blue-900" : "text-slate-800"}`}
                    title={title}
                  >
                    {title}
                  </Link>
                  <button
                    type="button"
                    className="btn-ghost px-1.5 text-xs"
                    onClick={() => setRenamingId(chat.id)}
                    autoFocus={renamedId === chat.id}
                  >
                    Rename<span className="sr-only"> {title}</span>
                  </button>
                  <button type="button" className="btn-ghost px-1.5 text-xs" onClick={() => setPendingDelete(chat)}>
                    Delete<span className="sr-only"> {title}</span>
                  </button>
                </li>
              );
            })}
          </ul>
        )}
      </div>
      <ConfirmDialog
        subject={pendingDelete}
        title="Delete this conversation?"
        confirmLabel="Delete"
        onConfirm={deleteConversation}
        onClose={() => setPendingDelete(null)}
        fallbackFocus={newChatButton}
      >
        {(chat) => (
          <p>
            <strong>{chat.title.trim() || UNTITLED_CHAT}</strong> and all its messages will be deleted. Your documents are
            not affected.
          </p>
        )}
      </ConfirmDialog>
    </nav>
  );
}
