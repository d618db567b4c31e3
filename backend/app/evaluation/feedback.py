"""Feedback on answers, turned into work for people and checks for retrieval.

``export_feedback`` writes, from the ratings people gave answers (all users, or one):

* ``review.md``: every thumbs-down answer with its question, comment, answer, the passages
  it cited and those retrieval gave it that it did not cite, for a person to read;
* ``cases.jsonl``: every thumbs-up answer as a regression case, question → the passages the
  liked answer cited (the expected passages), with its asker and the chat's scope.

``score_cases`` runs each case's question through the chat's retrieval, as its asker and in
its scope, and checks that the expected passages are still among the sources an answer gets.
A case whose expected documents its asker can no longer read (deleted, unshared, the
account deleted) is skipped.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from anyio import to_thread
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth import service as auth
from app.chat import repository as chats
from app.chat.answering import MAX_SOURCES, RETRIEVE_K
from app.chat.models import MessageFeedback
from app.core.errors import NotFound
from app.core.settings import Settings
from app.search.passages import Passage
from app.search.readable import search_readable
from app.search.retrieval import RetrievalParams, is_relevant
from app.sharing import access

REVIEW_FILE = "review.md"
CASES_FILE = "cases.jsonl"
EXPECTED_FIELDS = (
    "document_id",
    "chunk_id",
    "filename",
    "page_start",
    "page_end",
    "char_start",
    "char_end",
)


@dataclass(frozen=True)
class ExportSummary:
    reviewed: int
    cases: int
    liked_without_sources: int
    review_path: Path
    cases_path: Path


def _quoted(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in (text or "(empty)").splitlines())


def _pages(passage: dict[str, Any]) -> str:
    start, end = passage.get("page_start"), passage.get("page_end")
    return f"page {start}" if start == end else f"pages {start}-{end}"


def review_markdown(rated_down: Sequence[tuple[MessageFeedback, str]], *, now: datetime) -> str:
    lines = [
        "# Answers rated down",
        "",
        f"Exported {now:%Y-%m-%d %H:%M} UTC · {len(rated_down)} answer(s). "
        "Each: the question, what was searched, the rater's comment, the answer and the "
        "passages it cited (as they were when it was rated).",
    ]
    for number, (feedback, email) in enumerate(rated_down, start=1):
        question = " ".join(feedback.question.split()) or "(question not found)"
        lines += [
            "",
            f"## {number}. {question}",
            "",
            f"- Rated {feedback.updated_at:%Y-%m-%d %H:%M} UTC by {email}",
            f"- Chat `{feedback.chat_id}`, answer `{feedback.message_id}`",
            f"- Model: {feedback.model or 'default'}",
        ]
        if feedback.search_query and feedback.search_query != feedback.question:
            lines.append(f"- Searched for: {' '.join(feedback.search_query.split())}")
        lines += ["", "**Comment**", "", _quoted(feedback.comment or "(no comment)")]
        lines += ["", "**Answer**", "", _quoted(feedback.answer)]
        lines += ["", "**Passages it cited**", ""]
        if not feedback.passages:
            lines.append("(none)")
        for passage in feedback.passages:
            if passage.get("source_deleted"):
                lines.append(f"- [{passage['n']}] source deleted or no longer shared")
                continue
            lines.append(
                f"- [{passage['n']}] {passage['filename']}, {_pages(passage)} "
                f"(chunk {passage['chunk_id']})"
            )
            lines.append("")
            lines.append(_quoted(passage.get("text") or passage.get("snippet") or ""))
            lines.append("")
        cited = {passage.get("chunk_id") for passage in feedback.passages}
        uncited = [
            passage
            for passage in feedback.retrieved or []
            if not passage.get("source_deleted") and passage["chunk_id"] not in cited
        ]
        if uncited:
            lines += ["", "**Passages retrieved but not cited** (in rank order)", ""]
        for passage in uncited:
            lines.append(
                f"- {passage['filename']}, {_pages(passage)} (chunk {passage['chunk_id']}, "
                f"score {passage['score']:.3f})"
            )
            lines.append("")
            lines.append(_quoted(passage.get("text") or ""))
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def regression_case(feedback: MessageFeedback, email: str) -> dict[str, Any] | None:
    """A liked answer as question → expected passages (None when it cited nothing readable)."""
    expected = [
        {name: passage[name] for name in EXPECTED_FIELDS}
        for passage in feedback.passages
        if not passage.get("source_deleted")
    ]
    if not expected:
        return None
    return {
        "id": str(feedback.id),
        "user_id": str(feedback.user_id),
        "user_email": email,
        "question": feedback.question,
        "search_query": feedback.search_query or feedback.question,
        "scope": feedback.scope,
        "expected": expected,
        "rated_at": feedback.updated_at.isoformat(),
    }


def write_feedback_files(
    out_dir: Path,
    rated_down: Sequence[tuple[MessageFeedback, str]],
    rated_up: Sequence[tuple[MessageFeedback, str]],
) -> ExportSummary:
    out_dir.mkdir(parents=True, exist_ok=True)
    review_path = out_dir / REVIEW_FILE
    review_path.write_text(review_markdown(rated_down, now=datetime.now(UTC)), encoding="utf-8")
    cases = [case for case in (regression_case(f, e) for f, e in rated_up) if case is not None]
    cases_path = out_dir / CASES_FILE
    with cases_path.open("w", encoding="utf-8") as handle:
        for case in cases:
            handle.write(json.dumps(case, ensure_ascii=False) + "\n")
    return ExportSummary(
        reviewed=len(rated_down),
        cases=len(cases),
        liked_without_sources=len(rated_up) - len(cases),
        review_path=review_path,
        cases_path=cases_path,
    )


async def export_feedback(
    sessionmaker: async_sessionmaker[AsyncSession],
    out_dir: Path,
    *,
    email: str | None = None,
    since: datetime | None = None,
) -> ExportSummary:
    """Write review.md and cases.jsonl into ``out_dir`` from every user's ratings (or those
    of ``email``), rated since ``since``."""
    async with sessionmaker() as session:
        user_id = None
        if email is not None:
            user = await auth.get_user_by_email(session, email=email)
            if user is None:
                raise NotFound(f"No account with the email {email}.")
            user_id = user.id
        rated_down = await chats.ratings(session, rating=-1, user_id=user_id, since=since)
        rated_up = await chats.ratings(session, rating=1, user_id=user_id, since=since)
    return await to_thread.run_sync(write_feedback_files, out_dir, rated_down, rated_up)


# --------------------------------------------------------------------------- scoring


@dataclass
class CaseResult:
    case_id: str
    question: str
    expected: int
    found: int
    skipped: str | None = None

    @property
    def passed(self) -> bool:
        return self.skipped is None and self.found == self.expected


@dataclass
class RegressionScore:
    results: list[CaseResult] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        scored = [r for r in self.results if r.skipped is None]
        expected = sum(r.expected for r in scored)
        return {
            "cases": len(self.results),
            "passed": sum(r.passed for r in scored),
            "failed": sum(not r.passed for r in scored),
            "skipped": len(self.results) - len(scored),
            "recall": round(sum(r.found for r in scored) / expected, 4) if expected else 1.0,
        }


def read_cases(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def is_found(expected: dict[str, Any], passages: Iterable[Passage]) -> bool:
    """The same chunk, or (after a reindex renumbered the chunks) a passage of the same
    document overlapping the expected one's characters."""
    for passage in passages:
        if passage.chunk_id == expected["chunk_id"]:
            return True
        if (
            str(passage.document_id) == expected["document_id"]
            and passage.char_start < expected["char_end"]
            and expected["char_start"] < passage.char_end
        ):
            return True
    return False


async def _sources(
    session: AsyncSession,
    *,
    settings: Settings,
    case: dict[str, Any],
    params: RetrievalParams,
) -> list[Passage]:
    """The sources a chat would get for the case's search now."""
    user_id = uuid.UUID(case["user_id"])
    scope_fields = case.get("scope") or {}
    document_ids = [uuid.UUID(d) for d in scope_fields.get("document_ids") or []] or None
    collection = scope_fields.get("collection_id")
    scope = await access.read_scope(
        session,
        reader_id=user_id,
        collection_id=uuid.UUID(collection) if collection else None,
        document_ids=document_ids,
        require_collection=False,
    )
    passages = await search_readable(
        session,
        settings=settings,
        scope=scope,
        query=case["search_query"],
        k=RETRIEVE_K,
        params=params,
    )
    return [p for p in passages if is_relevant(p, params)][:MAX_SOURCES]


async def score_cases(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    cases: Iterable[dict[str, Any]],
    *,
    params: RetrievalParams,
) -> RegressionScore:
    score = RegressionScore()
    for case in cases:
        expected = case["expected"]
        result = CaseResult(
            case_id=case["id"], question=case["question"], expected=len(expected), found=0
        )
        async with sessionmaker() as session:
            readable = await access.document_roles(
                session,
                reader_id=uuid.UUID(case["user_id"]),
                document_ids=[uuid.UUID(e["document_id"]) for e in expected],
            )
            sources = await _sources(session, settings=settings, case=case, params=params)
            await session.rollback()
        if any(uuid.UUID(e["document_id"]) not in readable for e in expected):
            # Deleting an account deletes its documents: this covers a gone asker too.
            result.skipped = "an expected document is deleted or no longer shared"
        else:
            result.found = sum(is_found(e, sources) for e in expected)
        score.results.append(result)
    return score
