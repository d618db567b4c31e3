"""Split parsed pages into embedding-sized chunks that follow the document's structure.

How chunks are cut:

* A chunk belongs to one section (one ``heading_path``); a new heading starts a new chunk.
  The one exception: a section that holds nothing but its heading joins its first
  subsection, so a heading followed directly by a subheading never becomes a chunk alone.
* Units are sentences (paragraph blocks split at sentence ends); a sentence longer than
  ``max_tokens`` falls back to words, and a word longer than that to character halves.
  A sentence longer than ``LONG_RUN_CHARS`` goes to words without being counted whole, and
  a longer word is cut into pieces of that length first, so no single text handed to the
  counter is ever larger than a batch.
* Units are packed greedily. When the next unit does not fit, the chunk is cut before it,
  or earlier at the last paragraph start (then sentence start) that keeps the chunk at
  least half full. A chunk at least half full is also cut where a new page begins.
* A chunk that continues its section starts with an overlap: the run of trailing whole
  sentences of the previous chunk whose token total is closest to ``overlap_tokens``
  (never more than twice that, and never the whole previous chunk).
* Tables (blocks with a ``table`` mark, one per row): a chunk that continues a table starts
  with the table's header rows instead of an overlap, a chunk never ends on a header row
  whose first data row went to the next chunk, and a table is not cut where a new page
  begins. A header row a PDF repeats at the top of the next page is left out of the chunk
  it falls in (which has the header already); later chunks start with that copy.

Text and offsets: a chunk's text is its ``spans`` (page, start, end), the slices of the page
texts it covers, joined by ``"\\n"``. A chunk on one page with no page furniture inside is
the single slice ``page.text[char_start:char_end]``; a chunk spanning pages has a slice per
page, and furniture between two of its sentences (``Page.furniture``, a running footer
and the next page's header) is left out between two slices; so are the rows between a
table's header and the rows of a later chunk of that table.

``token_count`` is what the counter reports for the final chunk text (no special tokens),
always <= ``max_tokens``. Packing adds up per-unit counts, which is exact for WordPiece
tokenizers such as MiniLM's; each chunk is recounted anyway and split again if a
tokenizer is not additive.

Time and memory are linear in the document and bounded per page: sentences are counted in
batches, units are produced lazily, and finished chunks are handed out every
``FINISHED_BATCH`` chunks rather than at the end of the page.
"""

import itertools
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from tokenizers import Tokenizer

from app.documents.parsing import Block, Page
from app.documents.tables import TableMark
from app.search.passages import PAGE_JOINER

MIN_MAX_TOKENS = 8
VISIBLE = re.compile(r"\S")
# Sentence ends: Western punctuation followed by whitespace, or CJK full stops (no space).
SENTENCE_END = re.compile(
    r"[.!?\u2026]+[\"'\u201d\u2019)\]]*(?=\s)|[\u3002\uff01\uff1f]+[\"'\u201d\u2019\u300d\u300f)\]]*"
)
# Sentences go to the counter in batches of about this many characters.
COUNT_BATCH_CHARS = 64 * 1024
# See the module docstring: no sentence this long fits a chunk of any usable budget.
LONG_RUN_CHARS = 16 * 1024
# A word, or a piece of LONG_RUN_CHARS of a longer one.
WORD = re.compile(rf"\S{{1,{LONG_RUN_CHARS}}}")
# Words of an over-long sentence are counted in batches of this many; each distinct word
# once (they are counted alone, so a word's count never depends on its neighbours).
WORD_BATCH = 4096
WORD_COUNT_CACHE_SIZE = 65_536
FINISHED_BATCH = 32


@dataclass(frozen=True)
class ChunkDraft:
    ordinal: int  # 0-based position of the chunk in the document
    text: str
    page_start: int
    page_end: int
    char_start: int  # into page_start's text
    char_end: int  # into page_end's text
    heading_path: tuple[str, ...]
    token_count: int
    # (page, start, end) slices of the page texts, in order: text is their "\n"-join.
    spans: tuple[tuple[int, int, int], ...] = ()
    # A spreadsheet passage: its sheet (None for CSV/TSV) and the sheet rows it quotes.
    sheet: str | None = None
    row_start: int | None = None
    row_end: int | None = None


class TokenCounter(Protocol):
    def count(self, texts: Sequence[str]) -> list[int]:
        """Token counts of ``texts`` without special tokens, in order."""
        ...


class FastTokenizer(Protocol):
    @property
    def backend_tokenizer(self) -> Tokenizer: ...


class _BackendTokenCounter:
    def __init__(self, backend: Tokenizer) -> None:
        self._backend = backend

    def count(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        encodings = self._backend.encode_batch_fast(list(texts), add_special_tokens=False)
        return [len(encoding.ids) for encoding in encodings]


def hf_token_counter(tokenizer: FastTokenizer) -> TokenCounter:
    """Count tokens with a HuggingFace fast tokenizer, excluding special tokens.

    Works on a private copy of the Rust tokenizer with truncation and padding off, so
    counts are never capped at the model's length and the caller's tokenizer is untouched.
    Embedders add [CLS]/[SEP]: pass ``max_tokens = model_max_length - 2`` to chunk_pages.
    """
    return token_counter_from_json(tokenizer.backend_tokenizer.to_str())


def token_counter_from_json(tokenizer_json: str) -> TokenCounter:
    """``hf_token_counter`` for a tokenizer serialised with ``Tokenizer.to_str()``."""
    backend = Tokenizer.from_str(tokenizer_json)
    backend.no_truncation()
    backend.no_padding()
    return _BackendTokenCounter(backend)


@dataclass(frozen=True, slots=True)
class _Unit:
    """The smallest piece packed into chunks: a sentence, or a word of a huge sentence."""

    page: Page
    start: int
    end: int
    tokens: int
    heading_path: tuple[str, ...]
    is_heading: bool
    starts_block: bool
    starts_sentence: bool
    table: TableMark | None = None

    @property
    def text(self) -> str:
        return self.page.text[self.start : self.end]


def chunk_pages(
    pages: Iterable[Page],
    counter: TokenCounter,
    *,
    max_tokens: int = 256,
    overlap_tokens: int = 32,
) -> Iterator[ChunkDraft]:
    """Chunk pages lazily: each page is read, split and counted once, and the chunks it
    completes are yielded before the next page is requested."""
    if max_tokens < MIN_MAX_TOKENS:
        raise ValueError(f"max_tokens must be at least {MIN_MAX_TOKENS}")
    if not 0 <= overlap_tokens <= max_tokens // 2:
        raise ValueError("overlap_tokens must be between 0 and half of max_tokens")
    splitter = _UnitSplitter(counter, max_tokens)
    packer = _ChunkPacker(counter, max_tokens, overlap_tokens)
    for page in pages:
        for unit in splitter.units(page):
            packer.add(unit)
            if packer.finished_count >= FINISHED_BATCH:
                yield from packer.take_finished()
        yield from packer.take_finished()
    packer.finish()
    yield from packer.take_finished()


class _UnitSplitter:
    def __init__(self, counter: TokenCounter, max_tokens: int) -> None:
        self._counter = counter
        self._max_tokens = max_tokens
        self._previous_path: tuple[str, ...] | None = None
        self._word_counts: dict[str, int] = {}

    def units(self, page: Page) -> Iterator[_Unit]:
        batch: list[tuple[Block, int, int, bool]] = []
        batch_chars = 0
        for block in page.blocks:
            for index, (start, end) in enumerate(_sentence_spans(block)):
                if end - start > LONG_RUN_CHARS:
                    yield from self._counted_units(page, batch)
                    batch, batch_chars = [], 0
                    yield from self._split_oversized(
                        self._unit(page, block, start, end, index == 0)
                    )
                    continue
                batch.append((block, start, end, index == 0))
                batch_chars += end - start
                if batch_chars >= COUNT_BATCH_CHARS:
                    yield from self._counted_units(page, batch)
                    batch, batch_chars = [], 0
        yield from self._counted_units(page, batch)

    def _counted_units(
        self, page: Page, sentences: list[tuple[Block, int, int, bool]]
    ) -> Iterator[_Unit]:
        counts = self._counter.count([page.text[start:end] for _, start, end, _ in sentences])
        for (block, start, end, starts_block), tokens in zip(sentences, counts, strict=True):
            unit = self._unit(page, block, start, end, starts_block, tokens)
            if tokens <= self._max_tokens:
                yield unit
            else:
                yield from self._split_oversized(unit)

    def _unit(
        self, page: Page, block: Block, start: int, end: int, starts_block: bool, tokens: int = 0
    ) -> _Unit:
        """A sentence unit (``tokens`` stays 0 for one that goes to words uncounted)."""
        is_heading = starts_block and self._starts_section(block)
        return _Unit(
            page,
            start,
            end,
            tokens,
            block.heading_path,
            is_heading,
            starts_block,
            True,
            block.table,
        )

    def _starts_section(self, block: Block) -> bool:
        is_new_section = block.heading_path != self._previous_path
        self._previous_path = block.heading_path
        return (
            is_new_section
            and bool(block.heading_path)
            and " ".join(block.text.split()) == block.heading_path[-1]
        )

    def _split_oversized(self, sentence: _Unit) -> Iterator[_Unit]:
        """The sentence's words as units; in a sentence longer than LONG_RUN_CHARS, runs of
        consecutive words of up to an eighth of the budget (a unit per word made a 50 MB line
        cost minutes), which keeps its chunks at least 7/8 full."""
        is_long = sentence.end - sentence.start > LONG_RUN_CHARS
        pieces = self._word_pieces(sentence.page.text, sentence.start, sentence.end)
        if is_long:
            pieces = _grouped(pieces, self._max_tokens // 8)
        for index, (start, end, tokens) in enumerate(pieces):
            yield _Unit(
                sentence.page,
                start,
                end,
                tokens,
                sentence.heading_path,
                sentence.is_heading and index == 0,
                sentence.starts_block and index == 0,
                index == 0,
                sentence.table,
            )

    def _word_pieces(self, text: str, start: int, end: int) -> Iterator[tuple[int, int, int]]:
        """(start, end, tokens) of each word in ``text[start:end]``, a word over the budget
        in halves, counted a batch of words at a time."""
        matches = WORD.finditer(text, start, end)
        while spans := [match.span() for match in itertools.islice(matches, WORD_BATCH)]:
            counts = self._count_words([text[left:right] for left, right in spans])
            for (left, right), tokens in zip(spans, counts, strict=True):
                if tokens <= self._max_tokens:
                    yield left, right, tokens
                else:
                    yield from self._halve_until_fits(text, left, right, tokens)

    def _count_words(self, words: list[str]) -> list[int]:
        cache = self._word_counts
        unseen = list(dict.fromkeys(word for word in words if word not in cache))
        if len(cache) + len(unseen) > WORD_COUNT_CACHE_SIZE:
            cache.clear()
        cache.update(zip(unseen, self._counter.count(unseen), strict=True))
        return [cache[word] for word in words]

    def _halve_until_fits(
        self, text: str, start: int, end: int, tokens: int
    ) -> list[tuple[int, int, int]]:
        if tokens <= self._max_tokens or end - start <= 1:
            return [(start, end, tokens)]
        middle = (start + end) // 2
        left, right = self._counter.count([text[start:middle], text[middle:end]])
        return self._halve_until_fits(text, start, middle, left) + self._halve_until_fits(
            text, middle, end, right
        )


def _grouped(
    pieces: Iterable[tuple[int, int, int]], max_tokens: int
) -> Iterator[tuple[int, int, int]]:
    """Consecutive pieces merged while their token total stays within ``max_tokens``."""
    group: tuple[int, int, int] | None = None
    for start, end, tokens in pieces:
        if group is None:
            group = (start, end, tokens)
        elif group[2] + tokens <= max_tokens:
            group = (group[0], end, group[2] + tokens)
        else:
            yield group
            group = (start, end, tokens)
    if group is not None:
        yield group


def _sentence_spans(block: Block) -> Iterator[tuple[int, int]]:
    """Page offsets of the block's sentences, without surrounding whitespace."""
    text = block.text
    start = 0
    for match in SENTENCE_END.finditer(text):
        yield from _trimmed_span(text, start, match.end(), block.char_start)
        start = match.end()
    yield from _trimmed_span(text, start, len(text), block.char_start)


def _trimmed_span(text: str, start: int, end: int, base: int) -> Iterator[tuple[int, int]]:
    piece = text[start:end]
    stripped = piece.strip()
    if stripped:
        left = start + len(piece) - len(piece.lstrip())
        yield base + left, base + left + len(stripped)


class _ChunkPacker:
    def __init__(self, counter: TokenCounter, max_tokens: int, overlap_tokens: int) -> None:
        self._counter = counter
        self._max_tokens = max_tokens
        self._overlap_tokens = overlap_tokens
        self._units: list[_Unit] = []
        self._tokens = 0
        self._overlap_length = 0  # leading units repeated from the previous chunk
        self._finished: list[list[_Unit]] = []
        self._ordinals = itertools.count()
        # The header rows of the table being read, and whether a data row followed them.
        self._table_header: list[_Unit] = []
        self._table_has_rows = False
        self._header_repeating = False  # the last unit was a header repeated on a new page

    def add(self, unit: _Unit) -> None:
        if not self._track_table(unit):
            return
        continues_table = bool(self._units) and _same_table(unit, self._units[-1])
        if self._units and unit.heading_path != self._units[-1].heading_path:
            if not self._heading_joins_subsection(unit):
                self._cut(len(self._units), unit, keep_overlap=False)
        elif (
            self._units
            and unit.page is not self._units[-1].page
            and self._is_half_full()
            and not continues_table
        ):
            self._cut(len(self._units), unit, keep_overlap=True)
        while self._units and self._tokens + unit.tokens > self._max_tokens:
            self._cut(self._break_index(unit), unit, keep_overlap=True)
        self._units.append(unit)
        self._tokens += unit.tokens

    def _track_table(self, unit: _Unit) -> bool:
        """Remember the current table's header rows; False for a header row repeated after the
        table's data rows began (a PDF's header at the top of the next page)."""
        table = unit.table
        if table is None:
            return True
        if self._header_table() != table.table:
            self._table_header, self._table_has_rows = [], False
        repeating, self._header_repeating = self._header_repeating, False
        if not table.header:
            self._table_has_rows = True
        elif self._table_has_rows:
            # The next chunks repeat this copy: the header on the page their rows are on.
            self._table_header = [*self._table_header, unit] if repeating else [unit]
            self._header_repeating = True
            return False
        else:
            self._table_header.append(unit)
        return True

    def _header_table(self) -> int | None:
        mark = self._table_header[0].table if self._table_header else None
        return mark.table if mark is not None else None

    def finish(self) -> None:
        if self._units:
            self._finished.append(self._units)
        self._units, self._tokens, self._overlap_length = [], 0, 0

    @property
    def finished_count(self) -> int:
        return len(self._finished)

    def take_finished(self) -> Iterator[ChunkDraft]:
        finished, self._finished = self._finished, []
        counts = self._counter.count([_chunk_text(units) for units in finished])
        for units, tokens in zip(finished, counts, strict=True):
            yield from self._fitted_drafts(units, tokens)

    def _heading_joins_subsection(self, unit: _Unit) -> bool:
        current_path = self._units[-1].heading_path
        return (
            all(existing.is_heading for existing in self._units)
            and len(unit.heading_path) > len(current_path)
            and unit.heading_path[: len(current_path)] == current_path
        )

    def _is_half_full(self) -> bool:
        return self._tokens * 2 >= self._max_tokens

    def _break_index(self, incoming: _Unit) -> int:
        """Where to end the current chunk: before ``incoming`` if it starts a paragraph,
        else at the last paragraph start that leaves the chunk half full, likewise for
        sentence starts, else right before ``incoming``."""
        for is_boundary in (_starts_block, _starts_sentence):
            if is_boundary(incoming):
                return len(self._units)
            prefix_tokens = self._tokens
            for index in range(len(self._units) - 1, self._overlap_length, -1):
                prefix_tokens -= self._units[index].tokens
                if prefix_tokens * 2 < self._max_tokens:
                    break
                if is_boundary(self._units[index]):
                    return index
        return len(self._units)

    def _cut(self, index: int, incoming: _Unit, *, keep_overlap: bool) -> None:
        index = self._keep_header_with_rows(index, incoming)
        emitted, rest = self._units[:index], self._units[index:]
        self._finished.append(emitted)
        rest_tokens = sum(unit.tokens for unit in rest)
        overlap: list[_Unit] = []
        budget = self._max_tokens - rest_tokens - incoming.tokens
        if self._continues_table_rows(rest or [incoming]):
            header_tokens = sum(unit.tokens for unit in self._table_header)
            overlap = list(self._table_header) if header_tokens <= budget else []
        elif keep_overlap:
            overlap = self._overlap_tail(emitted, budget)
        self._units = overlap + rest
        self._tokens = rest_tokens + sum(unit.tokens for unit in overlap)
        self._overlap_length = len(overlap)

    def _keep_header_with_rows(self, index: int, incoming: _Unit) -> int:
        """Move a cut back before the table's header rows when nothing but header rows of
        ``incoming``'s table would stay between them and the cut."""
        if incoming.table is None or incoming.table.header:
            return index
        start = index
        while start > 0 and any(self._units[start - 1] is row for row in self._table_header):
            start -= 1
        return start if self._overlap_length < start < index else index

    def _continues_table_rows(self, rest: list[_Unit]) -> bool:
        """Whether the next chunk starts with data rows of the current table (so it needs the
        header rows in front)."""
        first = rest[0]
        return (
            first.table is not None
            and not first.table.header
            and first.table.table == self._header_table()
        )

    def _overlap_tail(self, emitted: list[_Unit], budget: int) -> list[_Unit]:
        limit = min(2 * self._overlap_tokens, budget)
        best_start, best_distance = len(emitted), self._overlap_tokens
        tail_tokens = 0
        for index in range(len(emitted) - 1, 0, -1):
            tail_tokens += emitted[index].tokens
            if tail_tokens > limit:
                break
            distance = abs(tail_tokens - self._overlap_tokens)
            if emitted[index].starts_sentence and distance < best_distance:
                best_start, best_distance = index, distance
        return emitted[best_start:]

    def _fitted_drafts(self, units: list[_Unit], tokens: int) -> Iterator[ChunkDraft]:
        """Yield the chunk, or, if the counter disagrees with the summed unit counts
        (non-additive tokenizers), its halves recounted until each fits."""
        if tokens <= self._max_tokens or len(units) == 1:
            yield _draft(next(self._ordinals), units, tokens)
            return
        middle = len(units) // 2
        halves = (units[:middle], units[middle:])
        counts = self._counter.count([_chunk_text(half) for half in halves])
        for half, half_tokens in zip(halves, counts, strict=True):
            yield from self._fitted_drafts(half, half_tokens)


def _same_table(unit: _Unit, other: _Unit) -> bool:
    return (
        unit.table is not None and other.table is not None and unit.table.table == other.table.table
    )


def _starts_block(unit: _Unit) -> bool:
    return unit.starts_block


def _starts_sentence(unit: _Unit) -> bool:
    return unit.starts_sentence


def _chunk_spans(units: list[_Unit]) -> list[tuple[Page, int, int]]:
    """Contiguous runs of units: a new run starts on a new page or after text left out
    (furniture, or a table's rows between its header and a later chunk's rows)."""
    spans: list[tuple[Page, int, int]] = []
    for unit in units:
        if spans:
            page, start, end = spans[-1]
            if page is unit.page and not VISIBLE.search(page.text, end, max(end, unit.start)):
                spans[-1] = (page, start, max(end, unit.end))
                continue
        spans.append((unit.page, unit.start, unit.end))
    return spans


def _chunk_text(units: list[_Unit]) -> str:
    return PAGE_JOINER.join(page.text[start:end] for page, start, end in _chunk_spans(units))


def _draft(ordinal: int, units: list[_Unit], tokens: int) -> ChunkDraft:
    first, last = units[0], units[-1]
    return ChunkDraft(
        ordinal=ordinal,
        text=_chunk_text(units),
        page_start=first.page.number,
        page_end=last.page.number,
        char_start=first.start,
        char_end=last.end,
        heading_path=last.heading_path,
        token_count=tokens,
        spans=tuple((page.number, start, end) for page, start, end in _chunk_spans(units)),
    )
