"use client";

import { useEffect, useId, useRef, useState } from "react";
import { api, errorMessage } from "@/lib/api";
import { apiErrorFromResponse } from "@/lib/api/errors";
import { chatsApi } from "@/lib/api/endpoints";
import { saveBlob } from "@/lib/download-original";

const FORMATS = [
  { format: "markdown", label: "Markdown (.md)", type: "text/markdown", extension: "md" },
  { format: "json", label: "JSON (.json)", type: "application/json", extension: "json" },
] as const;

type ExportFormat = (typeof FORMATS)[number];

/** The file name the API gives the export (Content-Disposition), or a plain one. */
export function exportFilename(disposition: string | null, extension: string): string {
  const match = disposition?.match(/filename="([^"]+)"/);
  return match?.[1] ?? `chat.${extension}`;
}

/** "Export chat": the conversation as shown, as Markdown (numbered sources, pages) or JSON. */
export function ExportMenu({ chatId }: { chatId: string }) {
  const [open, setOpen] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const buttonRef = useRef<HTMLButtonElement>(null);
  const rootRef = useRef<HTMLDivElement>(null);
  const menuId = useId();

  // Escape closes the menu (focus back on its button), and so does a click elsewhere.
  useEffect(() => {
    if (!open) return;
    // In the capture phase, handled: the Escape does not also close an open source panel.
    const onKey = (event: KeyboardEvent) => {
      if (event.key !== "Escape") return;
      event.preventDefault();
      setOpen(false);
      buttonRef.current?.focus();
    };
    const onPointer = (event: PointerEvent) => {
      if (!rootRef.current?.contains(event.target as Node)) setOpen(false);
    };
    document.addEventListener("keydown", onKey, { capture: true });
    document.addEventListener("pointerdown", onPointer);
    return () => {
      document.removeEventListener("keydown", onKey, { capture: true });
      document.removeEventListener("pointerdown", onPointer);
    };
  }, [open]);

  const download = async ({ format, type, extension }: ExportFormat) => {
    setOpen(false);
    setError(null);
    try {
      const response = await api.authorizedFetch(chatsApi.exportUrl(chatId, format));
      if (!response.ok) throw await apiErrorFromResponse(response);
      const blob = new Blob([await response.text()], { type });
      saveBlob(blob, exportFilename(response.headers.get("Content-Disposition"), extension));
    } catch (caught) {
      setError(errorMessage(caught));
    }
    buttonRef.current?.focus();
  };

  return (
    <div ref={rootRef} className="relative shrink-0">
      <button
        ref={buttonRef}
        type="button"
        className="btn-ghost border border-slate-300 px-2 py-1 text-xs"
        aria-expanded={open}
        aria-controls={menuId}
        onClick={() => setOpen((value) => !value)}
      >
        Export chat
      </button>
      {open ? (
        <ul id={menuId} className="absolute right-0 z-20 mt-1 w-44 rounded-md border border-slate-200 bg-white py-1 shadow-lg" aria-label="Export formats">
          {FORMATS.map((item) => (
            <li key={item.format}>
              <button type="button" className="w-full px-3 py-1.5 text-left text-sm hover:bg-slate-100" onClick={() => void download(item)}>
                {item.label}
              </button>
            </li>
          ))}
        </ul>
      ) : null}
      {error ? (
        <p role="alert" className="absolute right-0 mt-1 w-64 rounded bg-red-50 px-2 py-1 text-xs text-red-800">
          {error}
        </p>
      ) : null}
    </div>
  );
}
