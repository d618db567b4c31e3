"""A chat exported: JSON (`ChatExport`: every message, every version) and Markdown (the
conversation as shown, each answer with its numbered sources and where they are: pages, or
a sheet's rows). The chat's export route and the account's archive both use these."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from app.chat import service
from app.chat.models import Chat, ChatMessage
from app.chat.schemas import ChatExport, ChatOut, Citation, MessageOut

MARKDOWN_MEDIA_TYPE = "text/markdown; charset=utf-8"
_UNSAFE_FILENAME = re.compile(r"[^\w\- ]+")
_CITATION_MARKER = re.compile(r"\[(\d{1,3})\]")


def source_location(citation: Citation) -> str:
    """Where a cited passage is: "page 4", "pages 4-5", or "sheet “Q1”, rows 2-9"."""
    if citation.row_start is not None:
        sheet = f"sheet “{citation.sheet}”, " if citation.sheet else ""
        return f"{sheet}rows {citation.row_start}-{citation.row_end}"
    if citation.page is not None:
        return f"page {citation.page}"
    if citation.page_start == citation.page_end:
        return f"page {citation.page_start}"
    return f"pages {citation.page_start}-{citation.page_end}"


def source_line(citation: Citation) -> str:
    if citation.source_deleted:
        return f"[{citation.n}] (source deleted)"
    snippet = " ".join(citation.snippet.split())
    quoted = f" — “{snippet}”" if snippet else ""
    return f"[{citation.n}] {citation.filename}, {source_location(citation)}{quoted}"


def cited_sources(message: MessageOut) -> list[Citation]:
    """The sources an answer's text cites, by number."""
    used = {int(n) for n in _CITATION_MARKER.findall(message.content)}
    return sorted((c for c in message.citations if c.n in used), key=lambda c: c.n)


def _answer(message: MessageOut) -> list[str]:
    lines = [message.content.strip() or "_(no text)_"]
    if message.status == "streaming":
        lines.append("_(This answer was still being written when the chat was exported.)_")
    elif message.status == "failed":
        lines.append(f"_(This answer failed: {message.error or 'unknown reason'})_")
    elif message.partial:
        lines.append("_(Incomplete answer.)_")
    sources = cited_sources(message)
    if sources:
        lines.append("Sources:\n\n" + "\n".join(f"- {source_line(c)}" for c in sources))
    if message.version_count > 1:
        lines.append(f"_(Version {message.version} of {message.version_count}.)_")
    return lines


def chat_export(
    chat: Chat, messages: Sequence[ChatMessage], *, exported_at: datetime
) -> ChatExport:
    """The chat with ``messages`` (all of them, as `service.all_messages` reads them)."""
    return ChatExport(
        exported_at=exported_at,
        chat=ChatOut.model_validate(chat),
        messages=[MessageOut.of(s.message, s.version_ids) for s in service.shown_path(messages)],
        all_messages=[
            MessageOut.of(s.message, s.version_ids) for s in service.every_version(messages)
        ],
    )


def chat_markdown(export: ChatExport) -> str:
    blocks = [
        f"# {export.chat.title}",
        f"_Exported from DocChat on {export.exported_at:%Y-%m-%d %H:%M} UTC._",
    ]
    for message in export.messages:
        if message.role == "user":
            blocks.append("## Question")
            blocks.append(message.content.strip())
            if message.version_count > 1:
                blocks.append(f"_(Version {message.version} of {message.version_count}.)_")
        else:
            blocks.append("### Answer")
            blocks.extend(_answer(message))
    return "\n\n".join(blocks) + "\n"


def export_filename(chat: ChatOut, extension: str) -> str:
    """An ASCII file name made of the title (Content-Disposition needs no escaping)."""
    ascii_title = chat.title.encode("ascii", "ignore").decode()
    stem = "-".join(_UNSAFE_FILENAME.sub(" ", ascii_title).split())[:60].strip("-")
    return f"{stem or 'chat'}.{extension}"
