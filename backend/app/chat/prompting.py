"""Grounded prompts and standalone queries for follow-up questions."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from app.ai.llm import LLM, ChatMessage, LLMError

SYSTEM_PROMPT = """You are DocChat, an assistant that answers questions using ONLY the numbered \
sources from the user's own documents.
Rules:
- Every sentence that states a fact from a source ends with its citation marker, like [1] or [2][3].
- Cite only the numbers given below. Never invent sources, facts, numbers or quotes.
- If the sources do not contain the answer, say that you could not find it in the documents.
- Be concise. Use Markdown for lists and emphasis when it helps."""

REWRITE_PROMPT = """Rewrite the last user question as one standalone search query that can be \
understood without the conversation. Keep names, numbers and key terms. Answer with the query only."""

# Words that only make sense with the conversation before them. Demonstratives count when
# they stand alone ("is that true?"), not before a noun ("this model").
_PRONOUN = re.compile(
    r"\b(it|its|they|them|their|theirs|he|him|his|she|her|hers|former|latter)\b"
    r"|\b(this|that|these|those)\b(?=\s*(?:[?.!,]|$|is\b|was\b|are\b|were\b|one\b|ones\b))"
    r"|^\s*(?:is|was|are|were)\s+(?:this|that|these|those)\b"
    r"|\bthe (?:same|above|previous|first|second|third|last) one\b",
    re.IGNORECASE,
)
_CONTINUATION = re.compile(r"^\s*(?:and|or|but|also|what about|how about|then|so)\b", re.IGNORECASE)
# "Why?", "In 2004?", "Page 7?": too short to be a question of its own.
ELLIPSIS_MAX_WORDS = 2
_ELLIPSIS_TRAIL = re.compile(r"(?:\.\.\.|…)\s*\??\s*$")


@dataclass(frozen=True)
class Source:
    n: int
    filename: str
    page_start: int
    page_end: int
    heading_path: Sequence[str]
    text: str
    row_start: int | None = None
    row_end: int | None = None

    def label(self) -> str:
        if self.row_start is not None:
            # A spreadsheet passage: its sheet is the heading path.
            sheet = f", sheet “{' / '.join(self.heading_path)}”" if self.heading_path else ""
            return f"[{self.n}] {self.filename}{sheet}, rows {self.row_start}-{self.row_end}"
        pages = (
            f"page {self.page_start}"
            if self.page_start == self.page_end
            else f"pages {self.page_start}-{self.page_end}"
        )
        section = f", section “{' / '.join(self.heading_path)}”" if self.heading_path else ""
        return f"[{self.n}] {self.filename}, {pages}{section}"


def refers_back(question: str) -> bool:
    """Whether the question points back at the conversation: a pronoun standing for
    something said before, a leading "and …"/"what about …", or an elliptical fragment."""
    return (
        bool(_PRONOUN.search(question))
        or bool(_CONTINUATION.match(question))
        or len(question.split()) <= ELLIPSIS_MAX_WORDS
        or bool(_ELLIPSIS_TRAIL.search(question))
    )


def heuristic_standalone_query(question: str, previous_question: str | None) -> str:
    """Without a language model, a question that refers back is searched together with the
    previous question the user asked (as asked: rewrites never chain), so "and the second
    one?" keeps its topic. Any other question is searched as it is."""
    if previous_question and refers_back(question):
        return f"{previous_question} {question}"
    return question


async def llm_standalone_query(
    llm: LLM, question: str, history: Sequence[tuple[str, str]]
) -> str | None:
    transcript = "\n".join(f"{role}: {content[:1000]}" for role, content in history)
    messages = [
        ChatMessage("system", REWRITE_PROMPT),
        ChatMessage("user", f"Conversation:\n{transcript}\n\nLast question: {question}"),
    ]
    try:
        rewritten = (await llm.complete(messages, max_tokens=96, temperature=0.0)).strip()
    except LLMError:
        return None
    return rewritten.strip('"').strip() or None


def grounded_messages(
    question: str, sources: Sequence[Source], history: Sequence[tuple[str, str]]
) -> list[ChatMessage]:
    context = "\n\n".join(f"{source.label()}\n{source.text}" for source in sources)
    messages = [ChatMessage("system", SYSTEM_PROMPT)]
    for role, content in history:
        if role in ("user", "assistant"):
            messages.append(ChatMessage(role, content))  # type: ignore[arg-type]
    messages.append(ChatMessage("user", f"Sources:\n\n{context}\n\nQuestion: {question}"))
    return messages
