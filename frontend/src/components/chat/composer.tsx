"use client";

import { useState, type FormEvent, type KeyboardEvent, type Ref } from "react";

type ComposerProps = {
  onSend: (text: string) => void;
  onStop?: () => void;
  busy: boolean;
  disabled?: boolean;
  placeholder?: string;
  ref?: Ref<HTMLTextAreaElement>;
};

/** Question box: Enter sends, Shift+Enter adds a line; Stop while an answer streams. */
export function Composer({
  onSend,
  onStop,
  busy,
  disabled = false,
  placeholder = "Ask a question about your documents…",
  ref,
}: ComposerProps) {
  const [text, setText] = useState("");
  const canSend = text.trim().length > 0 && !busy && !disabled;

  const submit = (event?: FormEvent) => {
    event?.preventDefault();
    if (!canSend) return;
    onSend(text.trim());
    setText("");
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      submit();
    }
  };

  return (
    <form onSubmit={submit} className="flex items-end gap-2" aria-label="Ask a question">
      <label htmlFor="composer-input" className="sr-only">
        Your question
      </label>
      <textarea
        ref={ref}
        id="composer-input"
        rows={2}
        value={text}
        onChange={(event) => setText(event.target.value)}
        onKeyDown={onKeyDown}
        placeholder={placeholder}
        disabled={disabled}
        aria-describedby="composer-hint"
        className="input max-h-48 min-h-[2.75rem] flex-1 resize-y"
      />
      <p id="composer-hint" className="sr-only">
        Press Enter to send, Shift+Enter for a new line.
      </p>
      {busy && onStop ? (
        <button type="button" className="btn-secondary" onClick={onStop}>
          <span aria-hidden="true" className="h-3 w-3 rounded-sm bg-slate-700" />
          Stop
        </button>
      ) : (
        <button type="submit" className="btn-primary" disabled={!canSend}>
          Send
        </button>
      )}
    </form>
  );
}
