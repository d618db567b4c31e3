"use client";

import { useEffect, useState } from "react";
import { api, type DocumentPage } from "@/lib/api";
import { apiErrorFromResponse } from "@/lib/api/errors";
import { documentsApi } from "@/lib/api/endpoints";
import { WordHighlights } from "./word-highlights";

/** Room left beside a page fitted to the viewer's width. */
const FIT_MARGIN_PX = 32;

type ImagePageProps = {
  documentId: string;
  page: DocumentPage;
  /** 1 fits the image to the width of the viewer. */
  zoom: number;
  marks: [number, number][];
  onError: (error: unknown) => void;
};

/** A page of an image document (PNG, JPEG, a TIFF page, WebP) with the cited words boxed. */
export function ImagePage({ documentId, page, zoom, marks, onError }: ImagePageProps) {
  const [url, setUrl] = useState<string | null>(null);
  const [fitWidth, setFitWidth] = useState<number | null>(null);
  useEffect(() => {
    let cancelled = false;
    let created: string | null = null;
    (async () => {
      const response = await api.authorizedFetch(documentsApi.pageImageUrl(documentId, page.number));
      if (!response.ok) throw await apiErrorFromResponse(response);
      created = URL.createObjectURL(await response.blob());
      if (cancelled) URL.revokeObjectURL(created);
      else setUrl(created);
    })().catch((error: unknown) => {
      if (!cancelled) onError(error);
    });
    return () => {
      cancelled = true;
      if (created) URL.revokeObjectURL(created);
    };
  }, [documentId, page.number, onError]);

  return (
    <div
      ref={(element) => {
        const available = (element?.parentElement?.clientWidth ?? 0) - FIT_MARGIN_PX;
        if (element && available > 0 && fitWidth === null) setFitWidth(available);
      }}
      className="relative mx-auto bg-white shadow"
      style={{ width: fitWidth ? fitWidth * zoom : undefined, minHeight: url ? undefined : 200 }}
      data-testid="image-page"
      data-page-number={page.number}
    >
      {url ? (
        // A blob URL of our own API's PNG: next/image cannot optimise it in a static export.
        // eslint-disable-next-line @next/next/no-img-element
        <img src={url} alt={`Page ${page.number}`} className="block h-auto w-full" />
      ) : null}
      {url ? <WordHighlights words={page.words ?? []} marks={marks} text={page.text} /> : null}
    </div>
  );
}
