"use client";

import { useSearchParams } from "next/navigation";
import { useMemo } from "react";
import { ErrorAlert } from "@/components/ui/alert";
import { parseViewerParams } from "@/lib/viewer/link";
import { DocumentViewer } from "./document-viewer";

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
      <h1 className="sr-only">Document viewer</h1>
      <DocumentViewer target={target} />
    </div>
  );
}
