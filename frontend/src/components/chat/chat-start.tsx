"use client";

import Link from "next/link";
import { useScopeSuggestions } from "@/hooks/use-chats";
import type { ChatScope } from "@/lib/chat/scope";

type ChatStartProps = {
  /** What the chat will search: the questions are made for its ready documents. */
  scope: ChatScope;
  onAsk: (question: string) => void;
  disabled?: boolean;
  /** 1 on the start screen; 2 in an open chat, under its title. */
  headingLevel?: 1 | 2;
};

const LIBRARY_LINK = "font-medium text-blue-700 underline";

/** Said when nothing in the scope is ready to ask about yet, with the way to the library. */
function NothingReady({ scope }: { scope: ChatScope }) {
  if (scope.kind === "collection") {
    return (
      <>
        This collection has no ready documents yet.{" "}
        <Link href="/library/" className={LIBRARY_LINK}>
          Add some from the library
        </Link>{" "}
        first, then come back to ask about them.
      </>
    );
  }
  if (scope.kind === "documents" && scope.documentIds.length > 0) {
    return (
      <>
        None of the chosen documents is ready yet.{" "}
        <Link href="/library/" className={LIBRARY_LINK}>
          See their progress in the library
        </Link>
        , or choose others below.
      </>
    );
  }
  return (
    <>
      You have no ready documents yet.{" "}
      <Link href="/library/" className={LIBRARY_LINK}>
        Upload some in the library
      </Link>{" "}
      first, then come back to ask about them.
    </>
  );
}

/**
 * The start of an empty chat (the start screen's, and a new chat's): questions made for the
 * ready documents of its scope, one select asks it; or, when nothing there is ready, the way
 * to the library.
 */
export function ChatStart({ scope, onAsk, disabled = false, headingLevel = 1 }: ChatStartProps) {
  const suggestions = useScopeSuggestions(scope);
  const Heading = headingLevel === 1 ? "h1" : "h2";
  const nothingReady = suggestions.data !== undefined && suggestions.data.document_ids.length === 0;
  const questions = suggestions.data?.questions ?? [];
  return (
    <div className="flex flex-1 flex-col items-center justify-center px-4 py-6 text-center" data-testid="chat-start">
      <Heading className="text-xl font-semibold text-slate-900">What would you like to know?</Heading>
      <p className="mt-2 max-w-md text-sm text-slate-700">
        {nothingReady ? (
          <NothingReady scope={scope} />
        ) : (
          "Ask a question and get an answer grounded in your documents, with numbered sources."
        )}
      </p>
      {questions.length > 0 ? (
        <section aria-labelledby="suggested-questions-title" className="mt-6 w-full max-w-xl text-left">
          <h2 id="suggested-questions-title" className="text-sm font-medium text-slate-700">
            Try asking
          </h2>
          <ul className="mt-2 grid gap-2 sm:grid-cols-2">
            {questions.map((question) => (
              <li key={question}>
                <button
                  type="button"
                  className="h-full w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-left text-sm text-slate-800 hover:bg-slate-50"
                  onClick={() => onAsk(question)}
                  disabled={disabled}
                  data-testid="suggested-question"
                >
                  {question}
                </button>
              </li>
            ))}
          </ul>
        </section>
      ) : null}
    </div>
  );
}
