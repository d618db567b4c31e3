"use client";

import { useState, type FormEvent } from "react";
import { TextField } from "@/components/ui/text-field";
import { Spinner } from "@/components/ui/spinner";
import { errorMessage } from "@/lib/api";
import { useImportUrl } from "@/hooks/use-documents";

/** "Import from URL": the server fetches the page (or PDF), keeps its main content and the original. */
export function ImportUrlForm() {
  const importUrl = useImportUrl();
  const [url, setUrl] = useState("");
  const [imported, setImported] = useState<string | null>(null);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const address = url.trim();
    if (!address) return;
    setImported(null);
    importUrl.mutate(address, {
      onSuccess: (document) => {
        setUrl("");
        setImported(document.filename);
      },
    });
  };

  return (
    <section aria-labelledby="import-url-heading" className="card p-4">
      <h2 id="import-url-heading" className="text-sm font-semibold text-slate-900">
        Import from URL
      </h2>
      <form className="mt-2 flex flex-col gap-2 sm:flex-row sm:items-start" onSubmit={submit} noValidate>
        <div className="min-w-0 flex-1">
          <TextField
            id="import-url"
            label="Web page or PDF address"
            hint="The page's main text is indexed (menus and footers left out) and the page is kept as fetched."
            error={importUrl.isError ? errorMessage(importUrl.error) : undefined}
            type="url"
            inputMode="url"
            autoComplete="url"
            placeholder="https://example.com/article"
            value={url}
            onChange={(event) => setUrl(event.target.value)}
            disabled={importUrl.isPending}
          />
        </div>
        <button type="submit" className="btn-primary sm:mt-6" disabled={importUrl.isPending || !url.trim()}>
          {importUrl.isPending ? <Spinner className="h-4 w-4" /> : null}
          {importUrl.isPending ? "Importing…" : "Import"}
        </button>
      </form>
      <p className="mt-1 text-xs text-slate-700" aria-live="polite" data-testid="import-url-status">
        {imported ? `Added ${imported}.` : ""}
      </p>
    </section>
  );
}
