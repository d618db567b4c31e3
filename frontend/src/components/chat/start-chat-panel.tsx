"use client";

import { useState } from "react";
import { ErrorAlert } from "@/components/ui/alert";
import { Composer } from "./composer";
import type { ChatScope } from "@/lib/chat/scope";
import { ChatStart } from "./chat-start";
import { ModelPicker } from "./model-picker";
import { ScopePicker } from "./scope-picker";

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
  const [scope, setScope] = useState<ChatScope>(initialScope);
  const [model, setModel] = useState<string | null>(null);
  const start = (question: string) => onStart(question, scope, model);

  return (
    <div className="flex min-h-0 flex-1 flex-col">
      <div className="flex min-h-0 flex-1 flex-col overflow-y-auto">
        <ChatStart scope={scope} onAsk={start} disabled={starting} />
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
