"use client";

import Link from "next/link";
import { useRef, useState } from "react";
import { ErrorAlert } from "@/components/ui/alert";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { PageLoading } from "@/components/ui/spinner";
import { errorMessage, type DocumentRecord } from "@/lib/api";
import { isDocumentBusy, pluralize } from "@/lib/format";
import { useDeleteDocument, useDocuments, useReindexDocument } from "@/hooks/use-documents";
import { useUploads } from "@/hooks/use-uploads";
import { DocumentRow } from "./document-row";
import { ImportUrlForm } from "./import-url-form";
import { UploadDropzone } from "./upload-dropzone";
import { UploadList } from "./upload-list";

function EmptyLibrary() {
  return (
    <div className="card p-8 text-center" data-testid="library-empty">
      <h2 className="text-base font-semibold text-slate-900">No documents yet</h2>
      <p className="mx-auto mt-2 max-w-md text-sm text-slate-700">
        Add PDFs, Word files, spreadsheets, slides, e-books, web pages, Markdown or text files above. Each one is read, split into passages and
        indexed; once it shows <strong>Ready</strong>, ask questions about it in{" "}
        <Link href="/chat/" className="text-blue-700 underline">
          Chat
        </Link>
        .
      </p>
    </div>
  );
}

export function LibraryView() {
  const documents = useDocuments();
  const uploads = useUploads();
  const deleteDocument = useDeleteDocument();
  const reindexDocument = useReindexDocument();
  const [pendingDelete, setPendingDelete] = useState<DocumentRecord | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const documentsHeading = useRef<HTMLHeadingElement>(null);

  const list = documents.data ?? [];
  const busyCount = list.filter(isDocumentBusy).length;

  const retry = (document: DocumentRecord) => {
    setActionError(null);
    reindexDocument.mutate(document.id, { onError: (error) => setActionError(errorMessage(error)) });
  };

  return (
    <div className="mx-auto w-full max-w-4xl space-y-5 px-3 py-6 sm:px-5">
      <div>
        <h1 className="text-xl font-semibold text-slate-900">Library</h1>
        <p className="text-sm text-slate-600">The documents your answers come from.</p>
      </div>

      <UploadDropzone onFiles={uploads.addFiles} onRejected={uploads.addRejected} />
      <ImportUrlForm />
      <UploadList
        items={uploads.items}
        onCancel={uploads.cancel}
        onDismiss={uploads.dismiss}
        onClearFinished={uploads.clearFinished}
      />

      {actionError ? <ErrorAlert>{actionError}</ErrorAlert> : null}

      <section aria-labelledby="documents-heading" className="space-y-2">
        <div className="flex items-baseline justify-between">
          <h2 id="documents-heading" ref={documentsHeading} tabIndex={-1} className="text-base font-semibold text-slate-900">
            Your documents
          </h2>
          <p className="text-xs text-slate-600" aria-live="polite">
            {documents.data ? pluralize(list.length, "document") : ""}
            {busyCount > 0 ? ` · ${busyCount} processing` : ""}
          </p>
        </div>
        {documents.isPending ? (
          <PageLoading label="Loading documents…" />
        ) : documents.isError ? (
          <ErrorAlert>
            {errorMessage(documents.error)}{" "}
            <button type="button" className="underline" onClick={() => void documents.refetch()}>
              Try again
            </button>
          </ErrorAlert>
        ) : list.length === 0 ? (
          <EmptyLibrary />
        ) : (
          <ul className="card divide-y divide-slate-200" aria-label="Documents">
            {list.map((document) => (
              <DocumentRow
                key={document.id}
                document={document}
                onDelete={setPendingDelete}
                onRetry={retry}
                retrying={reindexDocument.isPending && reindexDocument.variables === document.id}
              />
            ))}
          </ul>
        )}
      </section>

      <ConfirmDialog
        subject={pendingDelete}
        title="Delete this document?"
        confirmLabel="Delete"
        onConfirm={(document) => deleteDocument.mutateAsync(document.id)}
        onClose={() => setPendingDelete(null)}
        fallbackFocus={documentsHeading}
      >
        {(document) => (
          <p>
            <strong className="break-all">{document.filename}</strong> and its passages will be removed. Answers
            already given keep their text but will no longer cite it.
          </p>
        )}
      </ConfirmDialog>
    </div>
  );
}
