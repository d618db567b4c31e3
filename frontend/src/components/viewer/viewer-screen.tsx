"use client";

import { useQuery } from "@tanstack/react-query";
import { useSearchParams } from "next/navigation";
import { useEffect, useMemo } from "react";
import { ErrorAlert } from "@/components/ui/alert";
import { APP_NAME } from "@/lib/config";
import { parseViewerParams } from "@/lib/viewer/link";
import { DocumentViewer, documentQueryOptions } from "./document-viewer";

/** The browser tab shows the document's name (not "Document"), like the original file would. */
function DocumentTitle({ documentId }: { documentId: string }) {
  const filename = useQuery(documentQueryOptions(documentId)).data?.filename;
  useEffect(() => {
    if (!filename) return;
    const previous = document.title;
    document.title = `${filename} · ${APP_NAME}`;
    return () => {
      document.title = previous;
    };
  }, [filename]);
  return filename ? <h1 className="sr-only">{filename}</h1> : <h1 className="sr-only">Document viewer</h1>;
}

/** `/viewer/?document=…&page=…&chunk=…&hl=…`: a cited page on its own, reopened from a link. */
export function ViewerScreen() {
  const params = useSearchParams();
  const target = useMemo(() => parseViewerParams(new URLSearchParams(params.toString())), [params]);
  if (!target) {
    return (
      <div className="mx-auto mt-10 max-w-md px-4">
        <ErrorAlert>This link names no document.</ErrorAlert>
      </div>
    );
  }
  return (
    <div className="flex h-[calc(100dvh-3.5rem)] min-h-0 flex-col">
      <DocumentTitle documentId={target.documentId} />
      <DocumentViewer target={target} />
    </div>
  );
}
