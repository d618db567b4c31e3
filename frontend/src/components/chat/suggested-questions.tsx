"use client";

import { useSuggestedQuestions } from "@/hooks/use-chats";

type SuggestedQuestionsProps = {
  /** The documents to suggest questions about (the first few are asked). */
  documentIds: string[];
  onAsk: (question: string) => void;
  disabled?: boolean;
};

const MAX_DOCUMENTS = 2;
const MAX_SHOWN = 4;

function useQuestions(documentIds: string[]): string[] {
  const first = useSuggestedQuestions(documentIds[0] ?? null);
  const second = useSuggestedQuestions(documentIds[1] ?? null);
  const perDocument = [first.data?.questions ?? [], second.data?.questions ?? []];
  // Alternate between the documents so each gets a say.
  const mixed: string[] = [];
  for (let index = 0; index < MAX_SHOWN; index += 1) {
    for (const questions of perDocument) {
      const question = questions[index];
      if (question && !mixed.includes(question)) mixed.push(question);
    }
  }
  return mixed.slice(0, MAX_SHOWN);
}

/** Questions to start with, made for the ready documents in scope; one select asks it. */
export function SuggestedQuestions({ documentIds, onAsk, disabled = false }: SuggestedQuestionsProps) {
  const questions = useQuestions(documentIds.slice(0, MAX_DOCUMENTS));
  if (questions.length === 0) return null;
  return (
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
  );
}
