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

_ANAPHORA = re.compile(
    r"\b(it|its|they|them|their|this|that|these|those|he|she|his|her|one|ones|former|latter|"
    r"first|second|third|last|above|previous|same|there)\b",
    re.IGNORECASE,
)
_CONTINUATION = re.compile(r"^\s*(and|or|but|also|what about|how about|why|so)\b", re.IGNORECASE)
FOLLOW_UP_MAX_WORDS = 8


@dataclass(frozen=True)
class Source:
    n: int
    filename: str
    page_start: int
    page_end: int
    heading_path: Sequence[str]
    text: str

    def label(self) -> str:
        pages = (
            f"page {self.page_start}"
            if self.page_start == self.page_end
            else f"pages {self.page_start}-{self.page_end}"
        )
        section = f", section “{' / '.join(self.heading_path)}”" if self.heading_path else ""
        return f"[{self.n}] {self.filename}, {pages}{section}"


def looks_like_follow_up(question: str) -> bool:
    """Heuristic: short questions, pronouns/ordinals pointing back, or a leading "and…"."""
    words = question.split()
    return (
        len(words) <= FOLLOW_UP_MAX_WORDS
        or bool(_ANAPHORA.search(question))
        or bool(_CONTINUATION.match(question))
    )


def heuristic_standalone_query(question: str, previous_query: str | None) -> str:
    """Without a language model, a follow-up is searched together with the previous question's
    standalone query, so "and the second one?" keeps the topic it refers to."""
    if previous_query and looks_like_follow_up(question):
        return f"{previous_query} {question}"
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
