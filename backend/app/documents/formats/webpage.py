"""A web page fetched by URL (``app.documents.url_import``): its main content only.

trafilatura finds the article in the page (navigation, cookie banners, footers and
comments left out) and hands it back as plain HTML, which is then read like an uploaded
HTML file. A page where it finds nothing is read whole.
"""

from __future__ import annotations

from collections.abc import Iterator

from app.documents.formats.limits import FormatLimits
from app.documents.parsing import Page, RawBlock, _build_page, _html_blocks

TITLE_LEVEL = 1


def webpage_pages(data: bytes, limits: FormatLimits) -> Iterator[Page]:
    blocks = main_content_blocks(data)
    page = _build_page(1, blocks)
    title = next(
        (block.text for block in page.blocks if block.heading_path[-1:] == (block.text,)), None
    )
    yield Page(page.number, page.text, page.blocks, title=title)


def main_content_blocks(data: bytes) -> list[RawBlock]:
    import trafilatura

    extracted = trafilatura.extract(
        data,
        output_format="html",
        include_tables=True,
        include_comments=False,
        include_links=False,
        include_images=False,
    )
    if not extracted:
        return _html_blocks(data)
    blocks = _html_blocks(extracted.encode())
    if not any(level == 1 for _, level in blocks):
        metadata = trafilatura.extract_metadata(data)
        if metadata is not None and metadata.title:
            blocks.insert(0, (metadata.title, TITLE_LEVEL))
    return blocks
