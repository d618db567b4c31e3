"use client";

import { useEffect, useId, useRef, useState, type ReactNode, type RefObject } from "react";
import { errorMessage } from "@/lib/api";
import { ErrorAlert } from "./alert";

type ConfirmDialogProps<T> = {
  /** What the user is asked about (the document, the chat…); the dialog is open while it is not null. */
  subject: T | null;
  title: string;
  confirmLabel: string;
  /** What confirming will do to the subject, in words. */
  children: (subject: T) => ReactNode;
  /** Does the action. The dialog waits for it, closes when it succeeds and shows its error when it fails. */
  onConfirm: (subject: T) => Promise<unknown>;
  /** The dialog is done (cancelled, Escape, or confirmed): clear the subject. */
  onClose: () => void;
  /** Gets the focus back when the control that opened the dialog is gone (its row was deleted). */
  fallbackFocus?: RefObject<HTMLElement | null>;
};

/**
 * The one confirmation pattern of the app, on the native modal <dialog>: the rest of the page
 * is inert and focus stays inside; Escape cancels; the safe action (Cancel) has the initial
 * focus; on close the focus returns to the control that opened it.
 */
export function ConfirmDialog<T>({ subject, title, confirmLabel, children, onConfirm, onClose, fallbackFocus }: ConfirmDialogProps<T>) {
  const dialogRef = useRef<HTMLDialogElement>(null);
  const openerRef = useRef<Element | null>(null);
  const cancelRef = useRef<HTMLButtonElement>(null);
  const titleId = useId();
  const descriptionId = useId();
  const open = subject !== null;
  // Busy and error belong to one question: they reset whenever the subject changes.
  const [attempt, setAttempt] = useState({ subject, busy: false, error: null as string | null });
  if (attempt.subject !== subject) setAttempt({ subject, busy: false, error: null });
  const { busy, error } = attempt;

  useEffect(() => {
    const dialog = dialogRef.current;
    if (!dialog) return;
    if (open && !dialog.open) {
      openerRef.current = document.activeElement;
      dialog.showModal?.();
      cancelRef.current?.focus();
    } else if (!open && dialog.open) {
      dialog.close?.();
      const opener = openerRef.current;
      if (opener instanceof HTMLElement && opener.isConnected) opener.focus();
      else fallbackFocus?.current?.focus();
    }
  }, [open, fallbackFocus]);

  const confirm = async () => {
    if (subject === null || busy) return;
    setAttempt({ subject, busy: true, error: null });
    try {
      await onConfirm(subject);
    } catch (failure) {
      setAttempt({ subject, busy: false, error: errorMessage(failure) });
      return;
    }
    onClose();
  };

  return (
    <dialog
      ref={dialogRef}
      aria-labelledby={titleId}
      aria-describedby={descriptionId}
      className="m-auto w-[min(28rem,calc(100vw-2rem))] rounded-lg p-0 shadow-xl backdrop:bg-slate-900/40"
      onCancel={(event) => {
        event.preventDefault();
        if (!busy) onClose();
      }}
      onClose={() => {
        // The browser may close it on its own (a second Escape): keep the subject in step.
        if (open) onClose();
      }}
    >
      {subject !== null ? (
        <div className="p-5">
          <h2 id={titleId} className="text-lg font-semibold text-slate-900">
            {title}
          </h2>
          <div id={descriptionId} className="mt-2 text-sm text-slate-700">
            {children(subject)}
          </div>
          {error ? <ErrorAlert className="mt-3">{error}</ErrorAlert> : null}
          <div className="mt-5 flex justify-end gap-2">
            <button ref={cancelRef} type="button" className="btn-secondary" onClick={onClose} disabled={busy}>
              Cancel
            </button>
            <button type="button" className="btn-danger" onClick={() => void confirm()} disabled={busy}>
              {busy ? "Working…" : confirmLabel}
            </button>
          </div>
        </div>
      ) : null}
    </dialog>
  );
}
