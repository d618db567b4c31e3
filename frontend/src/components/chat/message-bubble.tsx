"use client";

import type { Citation } from "@/lib/api";
import { citedSources, readMessage, type DocChatMessage } from "@/lib/chat/messages";
import { pageLabel } from "@/lib/format";
import { AnswerMarkdown } from "./answer-markdown";
import { FeedbackButtons } from "./feedback-buttons";

type MessageBubbleProps = {
  message: DocChatMessage;
  streaming: boolean;
  onCite: (citation: Citation) => void;
};

export function MessageBubble({ message, streaming, onCite }: MessageBubbleProps) {
  const view = readMessage(message);

  if (message.role === "user") {
    return (
      <li className="flex justify-end" data-testid="user-message">
        <div className="max-w-[85%] whitespace-pre-wrap break-words rounded-2xl rounded-br-sm bg-blue-700 px-4 py-2 text-sm text-white">
          <span className="sr-only">You: </span>
          {view.text}
        </div>
      </li>
    );
  }

  const cited = citedSources(view);
  return (
    <li className="flex justify-start" data-testid="assistant-message" data-complete={view.complete || !streaming}>
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
          {view.partial ? (
            <span className="rounded bg-slate-100 px-1.5 py-0.5 text-xs font-medium text-slate-800">Incomplete answer</span>
          ) : null}
        </div>
        {view.text ? (
          <AnswerMarkdown text={view.text} sources={view.sources} onCite={onCite} />
        ) : streaming ? (
          <p className="text-sm text-slate-600">Searching your documents…</p>
        ) : null}
        {streaming ? <span aria-hidden="true" className="ml-0.5 inline-block h-4 w-1.5 animate-pulse bg-slate-400 align-middle" /> : null}
        {view.searchQuery && !streaming ? (
          <p className="mt-2 text-xs text-slate-600" data-testid="searched-for">
            Searched for: <q>{view.searchQuery}</q>
          </p>
        ) : null}
        {cited.length > 0 && !streaming ? (
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
        {!streaming && view.text ? <FeedbackButtons message={message} /> : null}
      </div>
    </li>
  );
}
