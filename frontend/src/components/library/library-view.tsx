"use client";

import Link from "next/link";
import { useRouter, useSearchParams } from "next/navigation";
import { useLibrary, useLibraryFilters } from "@/hooks/use-library";
import { useUploads } from "@/hooks/use-uploads";
import { DEFAULT_FILTERS, isFiltered } from "@/lib/library/api";
import { CollectionSidebar, collectionHref } from "./collection-sidebar";
import { CollectionView } from "./collection-view";
import { ImportUrlForm } from "./import-url-form";
import { LibraryList, NoMatch } from "./library-list";
import { LibraryToolbar } from "./library-toolbar";
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

/** Everything the user can read: their own documents and those shared with them, searched, filtered and sorted. */
function AllDocuments() {
  const { filters, setFilters, counts, showFolder, clear } = useLibraryFilters(DEFAULT_FILTERS);
  const library = useLibrary(filters);
  const uploads = useUploads();
  const statusOf = (id: string) =>
    library.data?.pages.flatMap((page) => page.documents).find((document) => document.id === id)?.status;
  return (
    <>
      <div>
        <h1 className="text-xl font-semibold text-slate-900">Library</h1>
        <p className="text-sm text-slate-600">The documents your answers come from: yours, and those shared with you.</p>
      </div>
      <UploadDropzone onFiles={uploads.addFiles} onRejected={uploads.addRejected} />
      <ImportUrlForm />
      <UploadList
        items={uploads.items}
        documentStatus={statusOf}
        onCancel={uploads.cancel}
        onDismiss={uploads.dismiss}
        onClearFinished={uploads.clearFinished}
      />
      <LibraryToolbar filters={filters} counts={counts.data} onChange={setFilters} />
      <LibraryList
        // Other filters, another list: the selection and the scroll position start afresh.
        key={JSON.stringify(filters)}
        filters={filters}
        counts={counts.data}
        onFolder={showFolder}
        empty={isFiltered(filters) ? <NoMatch onClear={clear} /> : <EmptyLibrary />}
      />
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
