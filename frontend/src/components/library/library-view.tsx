"use client";

import Link from "next/link";
import { useRouter, useSearchParams } from "next/navigation";
import { useDocuments } from "@/hooks/use-documents";
import { useUploads } from "@/hooks/use-uploads";
import { CollectionSidebar, collectionHref } from "./collection-sidebar";
import { CollectionView } from "./collection-view";
import { DocumentList } from "./document-list";
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

/** Everything the user can read: their own documents and those shared with them. */
function AllDocuments() {
  const documents = useDocuments();
  const uploads = useUploads();
  return (
    <>
      <div>
        <h1 className="text-xl font-semibold text-slate-900">Library</h1>
        <p className="text-sm text-slate-600">The documents your answers come from: yours, and those shared with you.</p>
      </div>
      <UploadDropzone onFiles={uploads.addFiles} onRejected={uploads.addRejected} />
      <ImportUrlForm />
      <UploadList items={uploads.items} onCancel={uploads.cancel} onDismiss={uploads.dismiss} onClearFinished={uploads.clearFinished} />
      <DocumentList heading="All documents" documents={documents} empty={<EmptyLibrary />} />
    </>
  );
}

/** The library (`/library/`) or one collection (`/library/?collection=…`), with the collections beside. */
export function LibraryView() {
  const collectionId = useSearchParams().get("collection");
  const router = useRouter();
  return (
    <div className="mx-auto flex w-full max-w-6xl flex-col gap-6 px-3 py-6 sm:px-5 md:flex-row">
      <aside className="md:w-60 md:shrink-0">
        <CollectionSidebar activeId={collectionId} onCreated={(created) => router.push(collectionHref(created.id))} />
      </aside>
      <div className="min-w-0 flex-1 space-y-5">
        {collectionId ? (
          <CollectionView key={collectionId} collectionId={collectionId} onGone={() => router.replace("/library/")} />
        ) : (
          <AllDocuments />
        )}
      </div>
    </div>
  );
}
