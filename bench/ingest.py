"""Ingestion throughput: the real pipeline end to end vs. the raw embedding model.

    python bench/ingest.py [--pages 300] [--docs 1000] [--scanned-pages 20] [--concurrency 4]

In a fresh embedded PostgreSQL (temporary DATA_DIR) this

1. renders SciFact abstracts into one PDF of ``--pages`` pages (fpdf2; one abstract per page,
   title as a heading line) and ingests it through the real pipeline (create_documents →
   procrastinate job → parse → chunk → embed → index), sampling this process's RSS;
2. ingests ``--docs`` further abstracts as small Markdown documents (``# title`` + text);
2b. renders ``--scanned-pages`` abstracts as page images (Pillow, about 36 lines of 12 pt text at
   200 DPI, no text layer) into one PDF and ingests it: every page goes through OCR
   (Tesseract), sampling the RSS of this process, the parse process and Tesseract;
3. embeds exactly the chunk texts the pipeline embedded (heading path + text, as
   app.documents.tasks.embedding_input) with ``LocalEmbedder().embed_documents`` in calls of
   the pipeline's batch size (EMBED_BATCH), the raw model speed.

The last line is one JSON object: chunks_per_s (whole run), model_chunks_per_s,
ratio_to_model, pages_per_s (PDF phase), ocr_pages_per_s and ocr_rss_growth_mb (scanned phase),
table_detection_share and _ms_per_page (finding tables, against reading the text), per-phase
figures, peak_rss_mb and RSS growth.
Not a test: it takes minutes. The machine's other load affects every number.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import json
import os
import shutil
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("ENVIRONMENT", "development")
os.environ.setdefault("LOG_LEVEL", "WARNING")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "backend"))
SCIFACT = ROOT.parent / "shared" / "bench" / "scifact"

import psutil  # noqa: E402

OUR_PROCESSES = ("embedding_process", "parse_process", "tesseract")


class RssSampler:
    """Peak resident memory of this process and its children, sampled every 50 ms.

    Which children are ours is looked up once a second: listing a process's children reads
    every process's /proc entry, and doing that 20 times a second took ~2 % of the machine's
    CPU away from the pipeline it measures."""

    LIST_CHILDREN_EVERY = 20  # samples

    def __init__(self) -> None:
        self._process = psutil.Process()
        self._children: list[psutil.Process] = []
        self._list_children()
        self.peak = self.current()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _list_children(self) -> None:
        """The embedding and parse processes (and Tesseract): PostgreSQL is not ours to count."""
        ours = []
        for child in self._process.children(recursive=True):
            try:
                command = " ".join(child.cmdline())
            except psutil.Error:
                continue
            if any(name in command for name in OUR_PROCESSES):
                ours.append(child)
        self._children = ours

    def current(self) -> int:
        """This process and its children listed last."""
        total = self._process.memory_info().rss
        for child in self._children:
            try:
                total += child.memory_info().rss
            except psutil.Error:
                continue
        return int(total)

    def _run(self) -> None:
        samples = 0
        while not self._stop.wait(0.05):
            samples += 1
            if samples % self.LIST_CHILDREN_EVERY == 0:
                self._list_children()
            self.peak = max(self.peak, self.current())

    def reset(self) -> int:
        self.peak = self.current()
        return self.peak

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def load_abstracts(limit: int, offset: int = 0) -> list[tuple[str, str, str]]:
    rows = []
    with (SCIFACT / "corpus.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            rows.append((str(row["_id"]), str(row.get("title") or ""), str(row.get("text") or "")))
    return rows[offset : offset + limit]


def _latin1(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")


def render_pdf(abstracts: list[tuple[str, str, str]], pages: int) -> bytes:
    """One abstract per page (cycled if needed): a bold title line, then the text."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=False)
    pdf.set_margins(15, 15, 15)
    for page in range(pages):
        _, title, text = abstracts[page % len(abstracts)]
        pdf.add_page()
        pdf.set_font("Helvetica", style="B", size=12)
        pdf.multi_cell(0, 6, _latin1(title)[:300])
        pdf.ln(2)
        pdf.set_font("Helvetica", size=9)
        # Keep every page to one page (abstracts are at most ~4,000 characters).
        pdf.multi_cell(0, 4.2, _latin1(text)[:5000])
    return bytes(pdf.output())


SCAN_LINE_CHARS = 80
SCAN_LINES = 36


def render_scanned_pdf(abstracts: list[tuple[str, str, str]], pages: int) -> bytes:
    """One abstract per page image (title, then the text wrapped), saved as a PDF of images."""
    import io
    import textwrap

    from tests.ocr_samples import page_image

    images = []
    for page in range(pages):
        _, title, text = abstracts[page % len(abstracts)]
        lines = [title[:SCAN_LINE_CHARS], "", *textwrap.wrap(text, SCAN_LINE_CHARS)]
        images.append(page_image(lines[:SCAN_LINES]))
    buffer = io.BytesIO()
    images[0].save(buffer, "PDF", save_all=True, append_images=images[1:], resolution=200)
    return buffer.getvalue()


def table_detection(pdf_bytes: bytes) -> tuple[float, float]:
    """(share of the time to read every page's text and find its tables that pdf_tables
    takes, its milliseconds per page)."""
    import pypdfium2 as pdfium

    from app.documents.tables import pdf_tables

    document = pdfium.PdfDocument(pdf_bytes)
    text_s = tables_s = 0.0
    for index in range(len(document)):
        page = document[index]
        text_page = page.get_textpage()
        started = time.perf_counter()
        text_page.get_text_bounded()
        text_s += time.perf_counter() - started
        started = time.perf_counter()
        pdf_tables(text_page)
        tables_s += time.perf_counter() - started
        text_page.close()
        page.close()
    pages = len(document)
    document.close()
    return tables_s / (text_s + tables_s), 1000 * tables_s / pages


async def ingest_phase(
    settings: Any,
    sessionmaker: Any,
    database_url: str,
    user_id: uuid.UUID,
    uploads: list[Any],
    concurrency: int,
) -> float:
    from app.documents.service import create_documents
    from app.documents.storage import postgres_originals
    from app.evaluation.beir import run_worker_until_settled

    for start in range(0, len(uploads), 250):
        async with sessionmaker() as session:
            await create_documents(
                session,
                user_id=user_id,
                uploads=uploads[start : start + 250],
                originals=postgres_originals(sessionmaker),
            )
            await session.commit()
    started = time.perf_counter()
    counts = await run_worker_until_settled(
        settings, sessionmaker, database_url, user_id, concurrency=concurrency, report_every_s=3600
    )
    elapsed = time.perf_counter() - started
    if counts.get("failed"):
        raise SystemExit(f"{counts['failed']} documents failed: {counts}")
    return elapsed


async def chunk_stats(sessionmaker: Any, user_id: uuid.UUID) -> tuple[int, list[list[str]]]:
    """(chunk count, per-document lists of the texts the pipeline embedded)."""
    from sqlalchemy import text

    async with sessionmaker() as session:
        rows = (
            await session.execute(
                text(
                    "SELECT document_id, heading_path, text FROM chunks WHERE user_id = :u "
                    "ORDER BY document_id, ordinal"
                ),
                {"u": user_id},
            )
        ).all()
    per_doc: dict[Any, list[str]] = {}
    for row in rows:
        heading = list(row.heading_path or [])
        embedded = (" / ".join(heading) + "\n" + row.text) if heading else row.text
        per_doc.setdefault(row.document_id, []).append(embedded)
    return len(rows), list(per_doc.values())


async def main(args: argparse.Namespace) -> dict[str, Any]:
    from app.auth import service as auth
    from app.core import migrate
    from app.core.db import create_engine, create_sessionmaker
    from app.core.embedded_pg import start_embedded
    from app.core.settings import Settings
    from app.documents.service import Upload
    from app.documents.tasks import EMBED_BATCH

    data_dir = Path(tempfile.mkdtemp(prefix="docchat-bench-"))
    # registered before the server starts, so it runs after the server's own exit hook
    atexit.register(shutil.rmtree, data_dir, True)
    database_url = start_embedded(data_dir, cleanup_mode="delete")
    migrate.upgrade(database_url)
    settings = Settings(
        _env_file=None,
        environment="development",
        database_url=database_url,
        data_dir=data_dir,
        run_worker=False,
        log_level="WARNING",
        jwt_secret="bench-" + "x" * 40,
    )
    engine = create_engine(database_url, pool_size=4, max_overflow=4)
    sessionmaker = create_sessionmaker(engine)
    result: dict[str, Any] = {"concurrency": args.concurrency}
    try:
        from app.ai.factory import get_embedder

        embedder = get_embedder(settings)
        embedder.embed_documents(["warm up the model"])  # load outside the timings

        pdf_abstracts = load_abstracts(args.pages)
        pdf_bytes = render_pdf(pdf_abstracts, args.pages)
        result["pdf_pages"] = args.pages
        result["pdf_mb"] = round(len(pdf_bytes) / 1e6, 2)
        share, per_page_ms = table_detection(pdf_bytes)
        result["table_detection_share"] = round(share, 3)
        result["table_detection_ms_per_page"] = round(per_page_ms, 2)

        with RssSampler() as rss:
            async with sessionmaker() as session:
                pdf_user, docs_user, scanned_user = [
                    (
                        await auth.create_user(
                            session,
                            email=f"bench-{phase}@docchat.local",
                            password=uuid.uuid4().hex,
                            full_name="bench",
                        )
                    ).id
                    for phase in ("pdf", "docs", "scanned")
                ]
                await session.commit()

            baseline = rss.reset()
            pdf_s = await ingest_phase(
                settings,
                sessionmaker,
                database_url,
                pdf_user,
                [Upload(filename="scifact.pdf", data=pdf_bytes)],
                args.concurrency,
            )
            del pdf_bytes
            result["pdf_s"] = round(pdf_s, 1)
            result["pages_per_s"] = round(args.pages / pdf_s, 2)
            result["pdf_rss_growth_mb"] = round((rss.peak - baseline) / 1e6, 1)
            pdf_chunks, pdf_texts = await chunk_stats(sessionmaker, pdf_user)
            result["pdf_chunks"] = pdf_chunks
            result["pdf_chunks_per_s"] = round(pdf_chunks / pdf_s, 2)

            docs_s = 0.0
            doc_texts: list[list[str]] = []
            doc_chunks = 0
            if args.docs:
                from app.evaluation.beir import render_markdown

                abstracts = load_abstracts(args.docs, offset=args.pages)
                uploads = [
                    Upload(filename=f"{cid}.md", data=render_markdown(title, text))
                    for cid, title, text in abstracts
                ]
                docs_s = await ingest_phase(
                    settings, sessionmaker, database_url, docs_user, uploads, args.concurrency
                )
                doc_chunks, doc_texts = await chunk_stats(sessionmaker, docs_user)
                result["docs"] = len(uploads)
                result["docs_s"] = round(docs_s, 1)
                result["docs_per_s"] = round(len(uploads) / docs_s, 2)
                result["docs_chunks"] = doc_chunks
                result["docs_chunks_per_s"] = round(doc_chunks / docs_s, 2)
            result["peak_rss_mb"] = round(rss.peak / 1e6, 1)
            result["rss_growth_mb"] = round((rss.peak - baseline) / 1e6, 1)

            if args.scanned_pages:
                scanned = render_scanned_pdf(load_abstracts(args.scanned_pages), args.scanned_pages)
                result["scanned_pages"] = args.scanned_pages
                result["scanned_mb"] = round(len(scanned) / 1e6, 2)
                before_scan = rss.reset()
                scanned_s = await ingest_phase(
                    settings,
                    sessionmaker,
                    database_url,
                    scanned_user,
                    [Upload(filename="scanned.pdf", data=scanned)],
                    args.concurrency,
                )
                result["scanned_s"] = round(scanned_s, 1)
                result["ocr_pages_per_s"] = round(args.scanned_pages / scanned_s, 3)
                result["ocr_s_per_page"] = round(scanned_s / args.scanned_pages, 2)
                result["ocr_rss_growth_mb"] = round((rss.peak - before_scan) / 1e6, 1)
                result["ocr_peak_rss_mb"] = round(rss.peak / 1e6, 1)
                result["scanned_chunks"], _ = await chunk_stats(sessionmaker, scanned_user)

        # The raw model on exactly the same texts and call size as the pipeline.
        from app.ai.embeddings import LocalEmbedder

        model = LocalEmbedder()
        model.embed_documents(["warm up"])

        def model_time(groups: list[list[str]], *, per_document: bool) -> float:
            if per_document:
                calls = [
                    g[i : i + EMBED_BATCH] for g in groups for i in range(0, len(g), EMBED_BATCH)
                ]
            else:
                flat = [t for g in groups for t in g]
                calls = [flat[i : i + EMBED_BATCH] for i in range(0, len(flat), EMBED_BATCH)]
            started = time.perf_counter()
            for call in calls:
                model.embed_documents(call)
            return time.perf_counter() - started

        pdf_model_s = model_time(pdf_texts, per_document=False)
        docs_model_s = model_time(doc_texts, per_document=False) if doc_texts else 0.0
        result["pdf_model_chunks_per_s"] = round(pdf_chunks / pdf_model_s, 2)
        if doc_texts:
            result["docs_model_chunks_per_s"] = round(doc_chunks / docs_model_s, 2)
            # what the model does when called once per small document, as the pipeline must
            per_doc_s = model_time(doc_texts, per_document=True)
            result["docs_model_per_document_chunks_per_s"] = round(doc_chunks / per_doc_s, 2)
        total_chunks = pdf_chunks + doc_chunks
        pipeline_s = pdf_s + docs_s
        model_s = pdf_model_s + docs_model_s
        result["chunks"] = total_chunks
        result["chunks_per_s"] = round(total_chunks / pipeline_s, 2)
        result["model_chunks_per_s"] = round(total_chunks / model_s, 2)
        result["ratio_to_model"] = round(model_s / pipeline_s, 3)
        result["pdf_ratio_to_model"] = round(pdf_model_s / pdf_s, 3)
        if docs_s:
            result["docs_ratio_to_model"] = round(docs_model_s / docs_s, 3)
        result["cpu_count"] = os.cpu_count()
        result["loadavg_1m"] = round(os.getloadavg()[0], 2)
        return result
    finally:
        await engine.dispose()


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=300, help="PDF pages (one abstract each)")
    parser.add_argument("--docs", type=int, default=1000, help="abstracts as small documents")
    parser.add_argument(
        "--scanned-pages", type=int, default=20, help="pages of a scanned PDF (OCR); 0 skips"
    )
    parser.add_argument(
        "--concurrency", type=int, default=4, help="worker concurrency (the app's default: 4)"
    )
    args = parser.parse_args()
    import logging

    logging.basicConfig(level=logging.WARNING)
    result = asyncio.run(main(args))
    for key, value in result.items():
        print(f"{key:>40}  {value}")
    print(json.dumps(result))


if __name__ == "__main__":
    cli()
