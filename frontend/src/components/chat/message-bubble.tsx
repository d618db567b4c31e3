"use client";

import { useEffect, useRef, useState } from "react";
import type { Citation } from "@/lib/api";
import { answerWithSources, citedSources, readMessage, type DocChatMessage } from "@/lib/chat/messages";
import { pageLabel } from "@/lib/format";
import { AnswerMarkdown } from "./answer-markdown";
import { VersionNav } from "./version-nav";
import { FeedbackButtons } from "./feedback-buttons";

type MessageBubbleProps = {
  message: DocChatMessage;
  /** The chat it belongs to: answers then offer a rating. */
  chatId?: string;
  /** This browser is receiving the answer's stream now. */
  streaming: boolean;
  /** An answer or a question is on its way: versions and actions wait. */
  busy?: boolean;
  onCite: (citation: Citation) => void;
  onSelectVersion?: (messageId: string) => void;
  /** Assistant: a new version of this answer (also "Retry" for a failed one). */
  onRegenerate?: () => void;
  /** User: send an edited question as a new version of this one. */
  onEdit?: (text: string) => void;
  /** Assistant: a new version that replaced the one whose Regenerate had the focus. */
  focusRegenerate?: boolean;
};

export function MessageBubble({
  message,
  chatId,
  streaming,
  busy = false,
  onCite,
  onSelectVersion,
  onRegenerate,
  onEdit,
  focusRegenerate = false,
}: MessageBubbleProps) {
  const view = readMessage(message);
  const regenerateRef = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (focusRegenerate && !busy) regenerateRef.current?.focus();
  }, [focusRegenerate, busy]);
  const versions = message.metadata ? (
    <VersionNav
      noun={message.role === "user" ? "question" : "answer"}
      version={message.metadata.version}
      versionIds={message.metadata.versionIds}
      onSelect={(id) => onSelectVersion?.(id)}
      disabled={busy || !onSelectVersion}
    />
  ) : null;

  if (message.role === "user") {
    return <QuestionBubble text={view.text} versions={versions} busy={busy} onEdit={onEdit} />;
  }

  // Written by the server while this page only reads it back (e.g. after a reload).
  const beingWritten = streaming || view.status === "streaming";
  const cited = citedSources(view);
  return (
    <li className="flex justify-start" data-testid="assistant-message" data-complete={!beingWritten && (view.complete || !streaming)} data-status={view.status}>
      <div className="card max-w-full px-4 py-3 sm:max-w-[85%]">
        <div className="mb-1 flex flex-wrap items-center gap-2">
          <span className="sr-only">Answer: </span>
          {view.extractive ? (
            <span
              className="rounded bg-amber-100 px-1.5 py-0.5 text-xs font-medium text-amber-900"
              title="This answer is made of sentences quoted word for word from your documents."
              data-testid="extractive-label"
            >
              Quotes from your documents
            </span>
          ) : null}
          {view.partial && view.status !== "failed" ? (
            <span className="rounded bg-slate-100 px-1.5 py-0.5 text-xs font-medium text-slate-800">Incomplete answer</span>
          ) : null}
          {!streaming && view.status === "streaming" ? (
            <span className="rounded bg-blue-50 px-1.5 py-0.5 text-xs font-medium text-blue-900" data-testid="still-writing">
              Still being written…
            </span>
          ) : null}
        </div>
        {view.text ? (
          <AnswerMarkdown text={view.text} sources={view.sources} onCite={onCite} />
        ) : beingWritten ? (
          <p className="text-sm text-slate-600">Searching your documents…</p>
        ) : null}
        {beingWritten ? <span aria-hidden="true" className="ml-0.5 inline-block h-4 w-1.5 animate-pulse bg-slate-400 align-middle" /> : null}
        {view.status === "failed" ? (
          <div className="mt-2 rounded border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-900" data-testid="answer-failed">
            <p>{view.error ?? "The answer could not be completed."}</p>
            {onRegenerate ? (
              <button type="button" className="btn-ghost mt-1 border border-red-300 px-2 py-1 text-xs" onClick={onRegenerate} disabled={busy}>
                Retry
              </button>
            ) : null}
          </div>
        ) : null}
        {view.searchQuery && !beingWritten ? (
          <p className="mt-2 text-xs text-slate-600" data-testid="searched-for">
            Searched for: <q>{view.searchQuery}</q>
          </p>
        ) : null}
        {cited.length > 0 && !beingWritten ? (
          <div className="mt-3 border-t border-slate-200 pt-2">
            <h3 className="text-xs font-medium text-slate-600">Sources</h3>
            <ul className="mt-1 flex flex-wrap gap-2">
              {cited.map((citation) => (
                <li key={citation.n}>
                  <button
                    type="button"
                    className="rounded-md border border-slate-300 px-2 py-1 text-left text-xs text-slate-800 hover:bg-slate-100"
                    onClick={() => onCite(citation)}
                  >
                    <span className="font-semibold">[{citation.n}]</span>{" "}
                    {citation.source_deleted ? "source deleted" : `${citation.filename}, ${pageLabel(citation)}`}
                  </button>
                </li>
              ))}
            </ul>
          </div>
        ) : null}
        {!beingWritten ? (
          <div className="mt-2 flex flex-wrap items-center gap-2">
            {versions}
            {view.text ? <CopyButton text={answerWithSources(view)} /> : null}
            {onRegenerate && view.status !== "failed" ? (
              <button ref={regenerateRef} type="button" className="btn-ghost px-2 py-1 text-xs" onClick={onRegenerate} disabled={busy}>
                Regenerate
              </button>
            ) : null}
            {view.text && chatId ? <FeedbackButtons message={message} chatId={chatId} /> : null}
          </div>
        ) : null}
      </div>
    </li>
  );
}

function QuestionBubble({ text, versions, busy, onEdit }: { text: string; versions: React.ReactNode; busy: boolean; onEdit?: (text: string) => void }) {
  const [draft, setDraft] = useState<string | null>(null);
  if (draft !== null && onEdit) {
    const send = () => {
      const edited = draft.trim();
      if (!edited) return;
      setDraft(null);
      onEdit(edited);
    };
    return (
      <li className="flex justify-end" data-testid="user-message">
        <form
          className="w-full max-w-[85%] space-y-2"
          onSubmit={(event) => {
            event.preventDefault();
            send();
          }}
        >
          <label className="sr-only" htmlFor="edit-question">
            Edit your question
          </label>
          <textarea
            id="edit-question"
            className="input min-h-20 w-full"
            value={draft}
            autoFocus
            onChange={(event) => setDraft(event.target.value)}
            onKeyDown={(event) => {
              if (event.key === "Escape") setDraft(null);
              if (event.key === "Enter" && !event.shiftKey) {
                event.preventDefault();
                send();
              }
            }}
          />
          <div className="flex justify-end gap-2">
            <button type="button" className="btn-ghost border border-slate-300 px-2 py-1 text-xs" onClick={() => setDraft(null)}>
              Cancel
            </button>
            <button type="submit" className="btn-primary px-2 py-1 text-xs" disabled={busy || !draft.trim()}>
              Send
            </button>
          </div>
        </form>
      </li>
    );
  }
  return (
    <li className="flex flex-col items-end gap-1" data-testid="user-message">
      <div className="max-w-[85%] whitespace-pre-wrap break-words rounded-2xl rounded-br-sm bg-blue-700 px-4 py-2 text-sm text-white">
        <span className="sr-only">You: </span>
        {text}
      </div>
      <div className="flex items-center gap-2">
        {versions}
        {onEdit ? (
          <button type="button" className="btn-ghost px-2 py-1 text-xs" onClick={() => setDraft(text)} disabled={busy}>
            Edit question
          </button>
        ) : null}
      </div>
    </li>
  );
}

/** Copies the answer with the sources it cites (as plain text) and says so. */
function CopyButton({ text }: { text: string }) {
  const [copied, setCopied] = useState<"yes" | "failed" | null>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied("yes");
    } catch {
      setCopied("failed");
    }
    window.setTimeout(() => setCopied(null), 2000);
  };
  return (
    <>
      <button type="button" className="btn-ghost px-2 py-1 text-xs" onClick={() => void copy()}>
        Copy answer
      </button>
      <span role="status" className="text-xs text-slate-600">
        {copied === "yes" ? "Copied with its sources" : copied === "failed" ? "Could not copy" : ""}
      </span>
    </>
  );
}
