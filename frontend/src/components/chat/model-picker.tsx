"use client";

import { useId, useState } from "react";
import type { ChatDetail } from "@/lib/api";
import { useModelChoices, useUpdateChat } from "@/hooks/use-chats";

type ModelPickerProps = {
  /** An LLM_MODELS id, or null for the default answerer. */
  value: string | null;
  onChange: (model: string | null) => void;
  disabled?: boolean;
};

/** Which model answers: shown only when the server offers models to choose from (LLM_MODELS). */
export function ModelPicker({ value, onChange, disabled = false }: ModelPickerProps) {
  const choices = useModelChoices();
  const id = useId();
  if (!choices.data || choices.data.models.length === 0) return null;
  return (
    <div className="flex items-center gap-2 text-sm">
      <label htmlFor={id} className="text-slate-600">
        Model:
      </label>
      <select
        id={id}
        className="input w-auto max-w-xs py-1 text-sm"
        value={value ?? ""}
        disabled={disabled}
        onChange={(event) => onChange(event.target.value || null)}
        data-testid="model-picker"
      >
        <option value="">Default ({choices.data.default.label})</option>
        {choices.data.models.map((model) => (
          <option key={model.id} value={model.id ?? ""}>
            {model.label}
          </option>
        ))}
      </select>
    </div>
  );
}

/** The model picker of an open chat: the choice is saved with the chat. */
export function ChatModelPicker({ chat, disabled }: { chat: Pick<ChatDetail, "id" | "model">; disabled?: boolean }) {
  const updateChat = useUpdateChat();
  const [model, setModel] = useState<string | null>(chat.model ?? null);
  return (
    <ModelPicker
      value={model}
      disabled={disabled || updateChat.isPending}
      onChange={(next) => {
        setModel(next);
        updateChat.mutate({ id: chat.id, model: next });
      }}
    />
  );
}
