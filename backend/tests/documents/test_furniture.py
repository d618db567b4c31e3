"""Page furniture (running headers, footers, page numbers) and page-true chunk spans."""

from __future__ import annotations

from app.documents.chunking import PAGE_JOINER, chunk_pages, hf_token_counter
from app.documents.detect import DocumentKind
from app.documents.furniture import line_key, strip_furniture
from app.documents.parsing import _build_page, _pdf_paragraphs, parse_document
from app.documents.tasks import fallback_tokenizer
from tests.conftest import CORPUS

BODY = [
    "The keeper lights the lamp at sunset and trims the wick at midnight.",
    "Fog signals are sounded twice a minute while visibility stays low.",
    "Supplies of paraffin arrive by boat on the first day of each month.",
    "The logbook records every ship that passes within sight of the light.",
    "Storm shutters are closed when the wind rises above force eight.",
]


def _page(number: int, header: str, footer: str, body: str) -> str:
    second = BODY[(number + 1) % len(BODY)].replace(".", " again.")
    return f"{header}\n{body}\n{second}\n{footer}"


def _pages(headers: list[str], footers: list[str]) -> list:
    return [
        _build_page(index + 1, _pdf_paragraphs(_page(index + 1, header, footer, BODY[index])))
        for index, (header, footer) in enumerate(zip(headers, footers, strict=True))
    ]


def test_running_headers_and_page_numbers_are_cut_from_blocks_but_stay_in_the_page_text() -> None:
    # Alternating book headers, OCR noise ("LIGHTH0USE", "KEEPINC") and bare page numbers.
    headers = [
        "THE LIGHTHOUSE KEEPING. 49",
        "50 THE LIGHTH0USE KEEPING.",
        "THE LIGHTHOUSE KEEPINC. 51",
        "52 THE LIGHTHOUSE KEEPING.",
        "THE LIGHTHOUSE KEEPING. 53",
    ]
    footers = ["- 1 -", "- 2 -", "- 3 -", "- 4 -", "- 5 -"]
    pages = list(strip_furniture(_pages(headers, footers)))
    for page, header, footer in zip(pages, headers, footers, strict=True):
        assert [page.text[start:end] for start, end in page.furniture] == [header, footer]
        blocks = " ".join(block.text for block in page.blocks)
        assert header not in blocks
        assert footer not in blocks
        assert BODY[page.number - 1] in blocks
        for block in page.blocks:  # blocks are still exact slices of the page text
            assert page.text[block.char_start : block.char_end] == block.text


def test_lines_repeated_only_on_a_few_pages_or_in_short_documents_are_content() -> None:
    headers = ["Chapter one", "Chapter two", "Chapter three", "Chapter four", "Chapter five"]
    footers = ["Notes on the lamp", "Notes on fog", "Notes on the lamp", "Notes on boats", "End"]
    pages = list(strip_furniture(_pages(headers, footers)))
    assert all(page.furniture == () for page in pages)  # "Notes on the lamp": 2 of 5 pages
    long_line = "The keeper writes the weather into the logbook at six and at {} o'clock."
    numbered = [long_line.format(number) for number in range(1, 6)]
    pages = list(strip_furniture(_pages(numbered, footers)))
    assert all(page.furniture == () for page in pages)  # a sentence, not a running header
    single = list(strip_furniture(_pages(["Report 2004"], ["1"])))
    assert single[0].furniture == ()


def test_a_long_document_finds_headers_that_start_late_or_vary_and_keeps_unique_lines() -> None:
    # 200 pages, each with lines of its own at the edges (as every page of prose has): a
    # running header with OCR noise on every page, one on exactly the last half of the pages
    # (the share needed), and one on a page fewer than that.
    count = 200

    def word(n: int) -> str:  # a word of its own per number (line keys drop digits)
        return "".join(chr(ord("a") + int(digit)) for digit in str(n))

    noisy = ["ANNUAL REPORT OF THE HARBOUR BOARD", "ANNUAL REP0RT OF THE HARBOUR BOARD"]
    texts = [
        "\n".join(
            (
                f"{noisy[n % 2]} {n}",
                f"Room {word(n * 7919)} inspected",
                BODY[n % 5],
                f"Second half ledger {n}" if n >= count // 2 else f"Entry {word(n * 31)} filed",
                f"Late addendum {n}" if n > count // 2 else f"Addendum {word(n * 97)} kept",
            )
        )
        for n in range(count)
    ]
    pages = list(
        strip_furniture(_build_page(n + 1, _pdf_paragraphs(text)) for n, text in enumerate(texts))
    )
    for n, page in enumerate(pages):
        cut = [page.text[start:end] for start, end in page.furniture]
        expected = [f"{noisy[n % 2]} {n}"] + ([f"Second half ledger {n}"] if n >= 100 else [])
        assert cut == expected, (n, cut)


def test_line_key_ignores_page_numbers() -> None:
    assert line_key("GeoBase® iii") == line_key("GeoBase® 17") == "geobase"
    assert line_key("54 THE SIEGE OF VICKSBURG.") == "the siege of vicksburg"
    assert line_key("Page 3 of 12") == line_key("- 7 -") == "#"


def test_pdf_lines_join_hyphenation_and_start_list_items() -> None:
    raw = (
        "The survey covers the following infor-\n"
        "mation about each lake:\n"
        "\uf0b7 its depth in metres\n"
        "\uf0b7 its area\n"
        "- its outflow"
    )
    paragraphs = [text for text, _ in _pdf_paragraphs(raw)]
    assert paragraphs == [
        "The survey covers the following information about each lake:",
        "• its depth in metres",
        "• its area",
        "- its outflow",
    ]


def test_chunks_keep_their_page_spans_and_leave_furniture_out() -> None:
    data = (CORPUS / "GeoBase_NHNC1_Data_Model_UML_EN.pdf").read_bytes()
    pages = {page.number: page for page in strip_furniture(parse_document(data, DocumentKind.PDF))}
    counter = hf_token_counter(fallback_tokenizer())
    drafts = list(chunk_pages(pages.values(), counter, max_tokens=230, overlap_tokens=32))
    crossing = [draft for draft in drafts if draft.page_start != draft.page_end]
    assert crossing  # some passages run across a page break
    for draft in drafts:
        assert draft.spans[0][0] == draft.page_start and draft.spans[-1][0] == draft.page_end
        slices = [pages[page].text[start:end] for page, start, end in draft.spans]
        assert PAGE_JOINER.join(slices) == draft.text
        assert "National Hydro Network, Data Model" not in draft.text
        assert "GeoBase®" not in draft.text
    sentence = "Four packages constitute the NHNC1"
    holder = next(draft for draft in drafts if sentence in draft.text)
    offset = holder.text.index(sentence)
    for page, start, end in holder.spans:
        if offset < end - start:
            assert page == 7  # printed on page 7, whatever page the passage begins on
            assert pages[7].text[start + offset :].startswith(sentence)
            break
        offset -= end - start + len(PAGE_JOINER)
