"use client";

import { useEffect, useId, useRef, type ReactNode } from "react";

type ModalProps = {
  open: boolean;
  title: string;
  /** One line under the title saying what the dialog is for. */
  description?: ReactNode;
  onClose: () => void;
  children: ReactNode;
  /** Wider dialogs for lists (share, add documents). */
  size?: "md" | "lg";
};

/**
 * A form or list in a native modal <dialog> (the pattern of ConfirmDialog, for more than a
 * question): the page behind is inert, Escape and "Close" close it, and the focus returns to
 * the control that opened it.
 */
export function Modal({ open, title, description, onClose, children, size = "md" }: ModalProps) {
  const dialogRef = useRef<HTMLDialogElement>(null);
  const openerRef = useRef<Element | null>(null);
  const titleId = useId();
  const descriptionId = useId();

  useEffect(() => {
    const dialog = dialogRef.current;
    if (!dialog) return;
    if (open && !dialog.open) {
      openerRef.current = document.activeElement;
      dialog.showModal?.();
    } else if (!open && dialog.open) {
      dialog.close?.();
      const opener = openerRef.current;
      if (opener instanceof HTMLElement && opener.isConnected) opener.focus();
    }
  }, [open]);

  return (
    <dialog
      ref={dialogRef}
      aria-labelledby={titleId}
      aria-describedby={description ? descriptionId : undefined}
      className={`m-auto rounded-lg p-0 shadow-xl backdrop:bg-slate-900/40 ${
        size === "lg" ? "w-[min(40rem,calc(100vw-2rem))]" : "w-[min(28rem,calc(100vw-2rem))]"
      }`}
      onCancel={(event) => {
        event.preventDefault();
        onClose();
      }}
      onClose={() => {
        if (open) onClose();
      }}
    >
      {open ? (
        <div className="p-5">
          <div className="flex items-start justify-between gap-3">
            <h2 id={titleId} className="text-lg font-semibold text-slate-900">
              {title}
            </h2>
            <button type="button" className="btn-ghost -mr-2 -mt-1" onClick={onClose}>
              Close
            </button>
          </div>
          {description ? (
            <p id={descriptionId} className="mt-1 text-sm text-slate-700">
              {description}
            </p>
          ) : null}
          <div className="mt-4">{children}</div>
        </div>
      ) : null}
    </dialog>
  );
}
