"use client";

import Link from "next/link";
import { useState } from "react";
import { ErrorAlert } from "@/components/ui/alert";
import { useDocuments } from "@/hooks/use-documents";
import { Composer } from "./composer";
import type { ChatScope } from "@/lib/chat/scope";
import { ModelPicker } from "./model-picker";
import { ScopePicker } from "./scope-picker";
import { SuggestedQuestions } from "./suggested-questions";

type StartChatPanelProps = {
  /** `model`: an LLM_MODELS id, null for the default answerer. */
  onStart: (question: string, scope: ChatScope, model: string | null) => void;
  /** The scope to start with (the library's "Ask about it" opens the chat on a collection). */
  initialScope: ChatScope;
  starting: boolean;
  error: string | null;
};

/** Shown at /chat/ without a conversation: ask right away, or add documents first. */
export function StartChatPanel({ onStart, initialScope, starting, error }: StartChatPanelProps) {
  const documents = useDocuments();
  const [scope, setScope] = useState<ChatScope>(initialScope);
  const [model, setModel] = useState<string | null>(null);
  const ready = (documents.data ?? []).filter((doc) => doc.status === "ready");
  const readyCount = ready.length;
  // Suggestions for the chosen documents, or the newest ready ones when the chat searches everything.
  const suggestFor = scope.kind === "documents" ? scope.documentIds : scope.kind === "all" ? ready.map((doc) => doc.id) : [];
  const start = (question: string) => onStart(question, scope, model);

  return (
    <div className="flex min-h-0 flex-1 flex-col">
      <div className="flex flex-1 flex-col items-center justify-center px-4 text-center">
        <h1 className="text-xl font-semibold text-slate-900">What would you like to know?</h1>
        {documents.data && readyCount === 0 ? (
          <p className="mt-2 max-w-md text-sm text-slate-700">
            You have no ready documents yet.{" "}
            <Link href="/library/" className="font-medium text-blue-700 underline">
              Upload some in the library
            </Link>{" "}
            first, then come back to ask about them.
          </p>
        ) : (
          <p className="mt-2 max-w-md text-sm text-slate-700">
            Ask a question and get an answer grounded in your documents, with numbered sources.
          </p>
        )}
        <SuggestedQuestions documentIds={suggestFor} onAsk={start} disabled={starting} />
      </div>
      <div className="border-t border-slate-200 bg-white px-3 py-3 sm:px-6">
        <div className="mx-auto max-w-3xl space-y-2">
          {error ? <ErrorAlert>{error}</ErrorAlert> : null}
          <Composer onSend={start} busy={starting} />
          <div className="flex flex-wrap items-center gap-3">
            <ScopePicker scope={scope} onChange={setScope} disabled={starting} />
            <ModelPicker value={model} onChange={setModel} disabled={starting} />
          </div>
        </div>
      </div>
    </div>
  );
}
