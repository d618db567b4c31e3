"use client";

import Link from "next/link";
import { useEffect, useId, useRef, useState, type FormEvent, type KeyboardEvent } from "react";
import { ErrorAlert } from "@/components/ui/alert";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { Spinner } from "@/components/ui/spinner";
import { errorMessage, type ChatListItem } from "@/lib/api";
import { snippetParts } from "@/lib/chat/snippet";
import { useChats, useDeleteChat, useUpdateChat } from "@/hooks/use-chats";

export const UNTITLED_CHAT = "New conversation";
const SEARCH_DELAY_MS = 250;

type ConversationListProps = {
  activeId: string | null;
  onNewChat: () => void;
  creating: boolean;
  onDeleted: (id: string) => void;
  onNavigate?: () => void;
};

const titleOf = (chat: { title: string }) => chat.title.trim() || UNTITLED_CHAT;
const linkId = (chat: ChatListItem) => `chat-link-${chat.id}`;

function focusLink(chat: ChatListItem) {
  // After the rename form or the menu closes, the focus goes back to the chat it was about.
  requestAnimationFrame(() => document.getElementById(linkId(chat))?.focus());
}

function RenameForm({ chat, onDone }: { chat: ChatListItem; onDone: () => void }) {
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

type MenuAction = { label: string; run: () => void };

/** The actions of one chat, as a menu of buttons: arrows move, Escape closes (focus back to the chat). */
function ChatMenu({ chat, actions, onClose }: { chat: ChatListItem; actions: MenuAction[]; onClose: () => void }) {
  const menuRef = useRef<HTMLDivElement>(null);
  useEffect(() => {
    menuRef.current?.querySelector<HTMLButtonElement>("[role=menuitem]")?.focus();
    const closeOutside = (event: MouseEvent) => {
      if (menuRef.current && !menuRef.current.parentElement?.contains(event.target as Node)) onClose();
    };
    document.addEventListener("mousedown", closeOutside);
    return () => document.removeEventListener("mousedown", closeOutside);
  }, [onClose]);

  const onKeyDown = (event: KeyboardEvent) => {
    const items = Array.from(menuRef.current?.querySelectorAll<HTMLButtonElement>("[role=menuitem]") ?? []);
    const index = items.indexOf(document.activeElement as HTMLButtonElement);
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : -1;
      items[(index + step + items.length) % items.length]?.focus();
    } else if (event.key === "Escape" || event.key === "Tab") {
      event.preventDefault();
      onClose();
      focusLink(chat);
    }
  };

  return (
    <div
      ref={menuRef}
      role="menu"
      aria-label={`Actions for ${titleOf(chat)}`}
      className="card absolute right-1 top-full z-20 mt-1 w-40 py-1"
      onKeyDown={onKeyDown}
    >
      {actions.map((action) => (
        <button
          key={action.label}
          type="button"
          role="menuitem"
          tabIndex={-1}
          className="block w-full px-3 py-1.5 text-left text-sm text-slate-800 hover:bg-slate-100 focus:bg-slate-100"
          onClick={() => {
            onClose();
            action.run();
          }}
        >
          {action.label}
        </button>
      ))}
    </div>
  );
}

function Snippet({ chat }: { chat: ChatListItem }) {
  if (!chat.snippet || chat.snippet.role === "title") return null;
  return (
    <span className="mt-0.5 line-clamp-2 block text-xs font-normal text-slate-600" data-testid="chat-snippet">
      {snippetParts(chat.snippet.text, chat.snippet.highlights).map((part, index) =>
        part.match ? (
          <mark key={index} className="rounded-sm bg-yellow-200 px-0.5 text-slate-900">
            {part.text}
          </mark>
        ) : (
          <span key={index}>{part.text}</span>
        ),
      )}
    </span>
  );
}

/**
 * Conversations: pinned first, then newest activity; search over titles, questions and answers;
 * the archived ones on request. Each chat is one Tab stop (its link); its actions (pin, rename,
 * archive, delete) are in a menu shown on hover or focus, reached from the link with the right
 * arrow key (or Shift+F10).
 */
export function ConversationList({ activeId, onNewChat, creating, onDeleted, onNavigate }: ConversationListProps) {
  const [search, setSearch] = useState("");
  const [query, setQuery] = useState("");
  const [showArchived, setShowArchived] = useState(false);
  const chats = useChats({ q: query || undefined, archived: showArchived });
  const deleteChat = useDeleteChat();
  const updateChat = useUpdateChat();
  const [renamingId, setRenamingId] = useState<string | null>(null);
  const [menuId, setMenuId] = useState<string | null>(null);
  const [pendingDelete, setPendingDelete] = useState<ChatListItem | null>(null);
  const newChatButton = useRef<HTMLButtonElement>(null);
  const hintId = useId();

  useEffect(() => {
    const timer = setTimeout(() => setQuery(search.trim()), SEARCH_DELAY_MS);
    return () => clearTimeout(timer);
  }, [search]);

  const deleteConversation = async (chat: ChatListItem) => {
    await deleteChat.mutateAsync(chat.id);
    onDeleted(chat.id);
  };

  const actionsOf = (chat: ChatListItem): MenuAction[] => [
    {
      label: chat.pinned_at ? "Unpin" : "Pin",
      run: () => updateChat.mutate({ id: chat.id, pinned: !chat.pinned_at }, { onSettled: () => focusLink(chat) }),
    },
    { label: "Rename", run: () => setRenamingId(chat.id) },
    {
      label: chat.archived_at ? "Unarchive" : "Archive",
      run: () => {
        updateChat.mutate({ id: chat.id, archived: !chat.archived_at });
        newChatButton.current?.focus(); // the chat leaves this list
      },
    },
    {
      label: "Delete",
      run: () => {
        // The menu is gone: the dialog returns the focus to the chat's link (to "New chat" once deleted).
        document.getElementById(linkId(chat))?.focus();
        setPendingDelete(chat);
      },
    },
  ];

  const openMenuFromLink = (event: KeyboardEvent, chat: ChatListItem) => {
    if (event.key === "ArrowRight" || event.key === "ContextMenu" || (event.key === "F10" && event.shiftKey)) {
      event.preventDefault();
      setMenuId(chat.id);
    }
  };

  const searching = query !== "";
  let body;
  if (chats.isPending) {
    body = <p className="p-2 text-sm text-slate-600">Loading conversations…</p>;
  } else if (chats.isError) {
    body = <ErrorAlert>{errorMessage(chats.error)}</ErrorAlert>;
  } else if (chats.data.length === 0) {
    body = (
      <p className="p-2 text-sm text-slate-600">
        {searching
          ? `No ${showArchived ? "archived " : ""}conversation mentions “${query}”.`
          : showArchived
            ? "No archived conversations."
            : "No conversations yet."}
      </p>
    );
  } else {
    body = (
      <ul className="space-y-0.5" aria-label={searching ? "Search results" : showArchived ? "Archived conversations" : undefined}>
        {chats.data.map((chat) => {
          const active = chat.id === activeId;
          const title = titleOf(chat);
          if (renamingId === chat.id) {
            return (
              <li key={chat.id}>
                <RenameForm
                  chat={chat}
                  onDone={() => {
                    setRenamingId(null);
                    focusLink(chat);
                  }}
                />
              </li>
            );
          }
          const menuOpen = menuId === chat.id;
          return (
            <li
              key={chat.id}
              className={`group relative flex items-start rounded-md ${active ? "bg-blue-50" : "hover:bg-slate-100"}`}
              data-testid="conversation"
              data-pinned={chat.pinned_at ? "true" : undefined}
            >
              <Link
                id={linkId(chat)}
                href={`/chat/?id=${encodeURIComponent(chat.id)}`}
                aria-current={active ? "page" : undefined}
                aria-describedby={hintId}
                onClick={onNavigate}
                onKeyDown={(event) => openMenuFromLink(event, chat)}
                className={`min-w-0 flex-1 py-2 pl-2 pr-8 text-sm ${active ? "font-medium text-blue-900" : "text-slate-800"}`}
                title={title}
              >
                <span className="flex items-center gap-1">
                  {chat.pinned_at ? (
                    <span className="shrink-0 text-xs text-slate-500" aria-hidden="true">
                      ★
                    </span>
                  ) : null}
                  {chat.pinned_at ? <span className="sr-only">Pinned: </span> : null}
                  <span className="truncate">{title}</span>
                </span>
                <Snippet chat={chat} />
              </Link>
              <button
                type="button"
                tabIndex={-1}
                aria-haspopup="menu"
                aria-expanded={menuOpen}
                className={`btn-ghost absolute right-0.5 top-1 px-1.5 text-slate-600 ${menuOpen ? "visible" : "invisible group-focus-within:visible group-hover:visible"}`}
                onClick={() => setMenuId(menuOpen ? null : chat.id)}
                data-testid="conversation-menu-button"
              >
                <span aria-hidden="true">⋯</span>
                <span className="sr-only">Actions for {title}</span>
              </button>
              {menuOpen ? <ChatMenu chat={chat} actions={actionsOf(chat)} onClose={() => setMenuId(null)} /> : null}
            </li>
          );
        })}
      </ul>
    );
  }

  return (
    <nav aria-label="Conversations" className="flex h-full flex-col">
      <div className="space-y-2 p-3">
        <button ref={newChatButton} type="button" className="btn-primary w-full" onClick={onNewChat} disabled={creating}>
          {creating ? <Spinner className="h-4 w-4" /> : <span aria-hidden="true">+</span>}
          New chat
        </button>
        <div role="search">
          <label htmlFor="conversation-search" className="sr-only">
            Search conversations
          </label>
          <input
            id="conversation-search"
            type="search"
            className="input py-1.5 text-sm"
            placeholder="Search conversations"
            value={search}
            onChange={(event) => setSearch(event.target.value)}
          />
        </div>
        <button
          type="button"
          className="btn-ghost w-full justify-start px-1 text-xs text-slate-700"
          aria-pressed={showArchived}
          onClick={() => setShowArchived((value) => !value)}
        >
          {showArchived ? "← Back to conversations" : "Archived conversations"}
        </button>
      </div>
      <p id={hintId} className="sr-only">
        Right arrow: actions (pin, rename, archive, delete).
      </p>
      <div className="min-h-0 flex-1 overflow-y-auto px-2 pb-3">{body}</div>
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
            The conversation “{titleOf(chat)}” and all its messages will be deleted. Your documents are not affected.
          </p>
        )}
      </ConfirmDialog>
    </nav>
  );
}
