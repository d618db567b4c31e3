from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.chat.models import ChatMessage
from app.core.db import get_sessionmaker
from tests.conftest import pdf, register, upload, wait_until_settled
from tests.fakes import FakeOpenAI, http_error, ok, stream_cut_after

QUESTION = "What does the text say about the crazy ones?"


def parse_sse(body: str) -> list[dict[str, Any] | str]:
    events: list[dict[str, Any] | str] = []
    for block in body.split("\n\n"):
        if not block.startswith("data: "):
            continue
        payload = block[len("data: ") :]
        events.append(payload if payload == "[DONE]" else json.loads(payload))
    return events


def answer_text(events: list[dict[str, Any] | str]) -> str:
    return "".join(e["delta"] for e in events if isinstance(e, dict) and e["type"] == "text-delta")


def event_types(events: list[dict[str, Any] | str]) -> list[str]:
    return [e if isinstance(e, str) else e["type"] for e in events]


def by_type(events: list[dict[str, Any] | str], kind: str) -> dict[str, Any]:
    return next(e for e in events if isinstance(e, dict) and e["type"] == kind)


async def new_chat(client: httpx.AsyncClient, headers: dict[str, str], **body: Any) -> str:
    response = await client.post("/api/v1/chats", headers=headers, json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def ask(
    client: httpx.AsyncClient, headers: dict[str, str], chat_id: str, content: str, **extra: Any
) -> tuple[httpx.Response, list[dict[str, Any] | str]]:
    response = await client.post(
        f"/api/v1/chats/{chat_id}/messages", headers=headers, json={"content": content, **extra}
    )
    return response, parse_sse(response.text) if response.status_code == 200 else []


@pytest.fixture
async def ready_pdf(worker_client: httpx.AsyncClient) -> tuple[dict[str, str], str]:
    headers = await register(worker_client)
    doc = (await upload(worker_client, headers, pdf("crazyones.pdf"))).json()[0]
    assert (await wait_until_settled(worker_client, headers, doc["id"]))["status"] == "ready"
    return headers, str(doc["id"])


async def test_chat_crud_and_isolation(client: httpx.AsyncClient) -> None:
    alice = await register(client)
    bob = await register(client)
    chat_id = await new_chat(client, alice, title="Research")
    listed = (await client.get("/api/v1/chats", headers=alice)).json()
    assert [c["id"] for c in listed] == [chat_id]
    renamed = await client.patch(
        f"/api/v1/chats/{chat_id}", headers=alice, json={"title": "Renamed"}
    )
    assert renamed.status_code == 200
    assert renamed.json()["title"] == "Renamed"
    for method, path, body in [
        ("GET", f"/api/v1/chats/{chat_id}", None),
        ("PATCH", f"/api/v1/chats/{chat_id}", {"title": "x"}),
        ("DELETE", f"/api/v1/chats/{chat_id}", None),
        ("POST", f"/api/v1/chats/{chat_id}/messages", {"content": "hello there"}),
    ]:
        response = await client.request(method, path, headers=bob, json=body)
        assert response.status_code == 404, (method, path)
    assert (await client.get("/api/v1/chats", headers=bob)).json() == []
    assert (await client.delete(f"/api/v1/chats/{chat_id}", headers=alice)).status_code == 204
    assert (await client.get(f"/api/v1/chats/{chat_id}", headers=alice)).status_code == 404


async def test_message_sessions_come_from_the_request_scope(
    app: FastAPI, client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    """The question is stored by the request's transaction and the answer by a session of
    the same sessionmaker dependency (the one place sessions come from), not the app state."""
    real = app.state.sessionmaker
    opened: list[AsyncSession] = []

    def counting_sessionmaker() -> Callable[[], AsyncSession]:
        def open_session() -> AsyncSession:
            opened.append(real())
            return opened[-1]

        return open_session

    app.dependency_overrides[get_sessionmaker] = counting_sessionmaker
    try:
        chat_id = await new_chat(client, auth_headers)
        opened.clear()
        response, events = await ask(client, auth_headers, chat_id, "What do gluons bind?")
    finally:
        app.dependency_overrides.clear()
    assert response.status_code == 200
    assert "could not find" in answer_text(events)
    assert len(opened) == 2  # the request's transaction, then the answer's
    detail = (await client.get(f"/api/v1/chats/{chat_id}", headers=auth_headers)).json()
    assert [m["role"] for m in detail["messages"]] == ["user", "assistant"]


async def test_extractive_answer_streams_with_citations(
    worker_client: httpx.AsyncClient, ready_pdf: tuple[dict[str, str], str]
) -> None:
    headers, document_id = ready_pdf
    chat_id = await new_chat(worker_client, headers)
    response, events = await ask(worker_client, headers, chat_id, QUESTION)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["x-vercel-ai-ui-message-stream"] == "v1"
    types = event_types(events)
    assert types[:4] == ["start", "data-sources", "start-step", "text-start"]
    assert types[-5:] == ["text-end", "finish-step", "data-citations", "finish", "[DONE]"]
    assert types.count("text-delta") > 3  # streamed in pieces

    sources = by_type(events, "data-sources")["data"]["sources"]
    assert sources
    assert sources[0]["document_id"] == document_id
    assert sources[0]["filename"] == "crazyones.pdf"
    assert sources[0]["page_start"] == 1
    assert sources[0]["page"] == 1
    assert by_type(events, "data-sources")["data"]["search_query"] == QUESTION
    text = answer_text(events)
    assert "language model" not in text  # the mode is labelled by the UI, not in the answer
    assert "[1]" in text
    final = by_type(events, "data-citations")["data"]
    assert final["extractive"] is True
    # Each cited source highlights the sentences the answer quotes from it.
    for citation in final["citations"]:
        assert citation["highlights"]
        for highlight in citation["highlights"]:
            assert highlight["page"] == 1
            assert " ".join(highlight["text"].split()) in text
    assert final["message_id"] == by_type(events, "start")["messageId"]
    assert {c["n"] for c in final["citations"]} <= {s["n"] for s in sources}

    detail = (await worker_client.get(f"/api/v1/chats/{chat_id}", headers=headers)).json()
    assert detail["title"] == QUESTION[:60]
    user_message, answer = detail["messages"]
    assert user_message["role"] == "user"
    assert user_message["content"] == QUESTION
    assert answer["id"] == final["message_id"]
    assert answer["content"] == text
    assert answer["partial"] is False
    assert answer["citations"][0]["filename"] == "crazyones.pdf"
    assert answer["citations"] == final["citations"]
    assert answer["search_query"] == QUESTION


async def test_nothing_relevant_says_so(
    worker_client: httpx.AsyncClient, ready_pdf: tuple[dict[str, str], str]
) -> None:
    headers, _ = ready_pdf
    chat_id = await new_chat(worker_client, headers)
    _, events = await ask(
        worker_client, headers, chat_id, "quantum chromodynamics gluon lattice QCD"
    )
    assert by_type(events, "data-sources")["data"]["sources"] == []
    assert "could not find" in answer_text(events)
    assert by_type(events, "data-citations")["data"]["citations"] == []


async def test_follow_up_searched_with_previous_question(
    worker_app: FastAPI, worker_client: httpx.AsyncClient, ready_pdf: tuple[dict[str, str], str]
) -> None:
    headers, _ = ready_pdf
    chat_id = await new_chat(worker_client, headers)
    await ask(worker_client, headers, chat_id, QUESTION)
    await ask(worker_client, headers, chat_id, "and why are they called that?")
    async with worker_app.state.sessionmaker() as session:
        queries = (
            (
                await session.execute(
                    select(ChatMessage.search_query)
                    .where(ChatMessage.chat_id == uuid.UUID(chat_id), ChatMessage.role == "user")
                    .order_by(ChatMessage.created_at)
                )
            )
            .scalars()
            .all()
        )
    assert queries[1] == f"{QUESTION} and why are they called that?"


async def _search_queries(app: FastAPI, chat_id: str) -> list[str | None]:
    async with app.state.sessionmaker() as session:
        return list(
            (
                await session.execute(
                    select(ChatMessage.search_query)
                    .where(ChatMessage.chat_id == uuid.UUID(chat_id), ChatMessage.role == "user")
                    .order_by(ChatMessage.created_at)
                )
            )
            .scalars()
            .all()
        )


@pytest.mark.parametrize(
    ("question", "refers_back"),
    [
        ("And 2023?", True),
        ("Why?", True),
        ("what about the second one?", True),
        ("Is that true?", True),
        ("Who wrote it?", True),
        ("How much does this cost...", True),
        ("Who is the author of the Toponymy model?", False),
        ("What is the capital of Peru?", False),
        ("What does this model describe about hydro events?", False),
        ("Who said that the crazy ones change the world?", False),
    ],
)
def test_only_questions_that_refer_back_are_rewritten(question: str, refers_back: bool) -> None:
    from app.chat import prompting

    assert prompting.refers_back(question) is refers_back
    rewritten = prompting.heuristic_standalone_query(question, "Which packages form the model?")
    assert rewritten == (f"Which packages form the model? {question}" if refers_back else question)


async def test_follow_ups_never_chain(
    worker_app: FastAPI, worker_client: httpx.AsyncClient, ready_pdf: tuple[dict[str, str], str]
) -> None:
    headers, _ = ready_pdf
    chat_id = await new_chat(worker_client, headers)
    questions = [QUESTION, "and why are they called that?", "And what do they invent?"]
    for question in questions:
        await ask(worker_client, headers, chat_id, question)
    assert await _search_queries(worker_app, chat_id) == [
        QUESTION,
        f"{QUESTION} {questions[1]}",
        f"{questions[1]} {questions[2]}",  # from the previous question as asked, not its rewrite
    ]


async def test_topic_change_gets_fresh_results_and_not_found(
    worker_app: FastAPI, worker_client: httpx.AsyncClient, ready_pdf: tuple[dict[str, str], str]
) -> None:
    headers, crazy_id = ready_pdf
    other = (
        await upload(
            worker_client,
            headers,
            ("lakes.txt", b"Lake Superior is the largest of the Great Lakes.", "text/plain"),
        )
    ).json()[0]
    await wait_until_settled(worker_client, headers, other["id"])
    chat_id = await new_chat(worker_client, headers)
    turns = [
        ("Which is the largest of the Great Lakes?", {other["id"]}),
        ("What do we make tools for?", {crazy_id}),  # a new topic: only its own results
        ("What is the boiling point of mercury?", set()),  # nothing about it: not found
        # Refers back ("And"), but the rewrite with the mercury question finds nothing: the
        # question is searched alone.
        ("And the crazy ones?", {crazy_id}),
    ]
    for question, expected in turns:
        _, events = await ask(worker_client, headers, chat_id, question)
        sources = by_type(events, "data-sources")["data"]["sources"]
        assert {s["document_id"] for s in sources} == expected, (question, sources)
        if not expected:
            assert "could not find" in answer_text(events)
        assert by_type(events, "data-sources")["data"]["search_query"] == question
    assert await _search_queries(worker_app, chat_id) == [question for question, _ in turns]


async def test_citations_of_a_deleted_document_say_so(
    worker_client: httpx.AsyncClient, ready_pdf: tuple[dict[str, str], str]
) -> None:
    headers, document_id = ready_pdf
    chat_id = await new_chat(worker_client, headers)
    await ask(worker_client, headers, chat_id, QUESTION)
    deleted = await worker_client.delete(f"/api/v1/documents/{document_id}", headers=headers)
    assert deleted.status_code == 204
    for _ in range(2):  # reading the chat does not rewrite what it stored
        answer = (await worker_client.get(f"/api/v1/chats/{chat_id}", headers=headers)).json()[
            "messages"
        ][1]
        assert answer["citations"]
        assert all(c["source_deleted"] is True for c in answer["citations"])
        assert all(c["snippet"] == c["filename"] == "" for c in answer["citations"])
        assert all(c["highlights"] == [] for c in answer["citations"])
        assert "[1]" in answer["content"]


async def test_chat_restricted_to_documents(
    worker_client: httpx.AsyncClient, ready_pdf: tuple[dict[str, str], str]
) -> None:
    headers, _ = ready_pdf
    other = (
        await upload(
            worker_client,
            headers,
            ("lakes.txt", b"Lake Superior is the largest lake.", "text/plain"),
        )
    ).json()[0]
    await wait_until_settled(worker_client, headers, other["id"])
    chat_id = await new_chat(worker_client, headers, document_ids=[other["id"]])
    _, events = await ask(worker_client, headers, chat_id, QUESTION)
    sources = by_type(events, "data-sources")["data"]["sources"]
    assert {s["document_id"] for s in sources} <= {other["id"]}


async def _llm_chat(client: httpx.AsyncClient) -> tuple[dict[str, str], str]:
    headers = await register(client)
    doc = (await upload(client, headers, pdf("crazyones.pdf"))).json()[0]
    assert (await wait_until_settled(client, headers, doc["id"]))["status"] == "ready"
    return headers, await new_chat(client, headers)


async def test_llm_answer_grounded_and_invalid_markers_removed(
    llm_client: httpx.AsyncClient, fake_llm: FakeOpenAI
) -> None:
    headers, chat_id = await _llm_chat(llm_client)
    fake_llm.push(
        ok("The crazy ones see things differently [1]. They change things [7][1].", chunk_size=3)
    )
    _, events = await ask(llm_client, headers, chat_id, QUESTION)
    text = answer_text(events)
    assert text == "The crazy ones see things differently [1]. They change things [1]."
    final = by_type(events, "data-citations")["data"]
    assert final["extractive"] is False
    assert [c["n"] for c in final["citations"]] == [1]
    # The source highlights the passage sentences that support the answer's sentences.
    highlighted = [" ".join(h["text"].split()) for h in final["citations"][0]["highlights"]]
    assert "The ones who see things differently." in highlighted
    assert "Because they change things." in highlighted
    request = fake_llm.requests_to("chat")[-1]
    assert request.body["model"] == "gpt-fake"
    assert request.body["stream"] is True
    assert request.authorization == "Bearer sk-test-key"
    prompt = request.body["messages"][-1]["content"]
    assert "[1] crazyones.pdf, page 1" in prompt
    assert QUESTION in prompt


async def test_llm_retries_then_answers(
    llm_client: httpx.AsyncClient, fake_llm: FakeOpenAI
) -> None:
    headers, chat_id = await _llm_chat(llm_client)
    fake_llm.push(http_error(429, retry_after=0), http_error(500), ok("Here you go [1]."))
    _, events = await ask(llm_client, headers, chat_id, QUESTION)
    assert answer_text(events) == "Here you go [1]."


async def test_llm_failure_emits_error_and_stores_partial(
    llm_client: httpx.AsyncClient, fake_llm: FakeOpenAI
) -> None:
    headers, chat_id = await _llm_chat(llm_client)
    fake_llm.push(
        stream_cut_after(3, text="Partial answer that will be cut somewhere", chunk_size=4)
    )
    response, events = await ask(llm_client, headers, chat_id, QUESTION)
    assert response.status_code == 200
    types = event_types(events)
    assert types[-2:] == ["error", "[DONE]"]
    assert "interrupted" in by_type(events, "error")["errorText"]
    partial_text = answer_text(events)
    assert partial_text == "Partial answ"  # three 4-character chunks arrived
    detail = (await llm_client.get(f"/api/v1/chats/{chat_id}", headers=headers)).json()
    answer = detail["messages"][-1]
    assert answer["partial"] is True
    assert answer["content"] == partial_text


async def test_llm_down_before_first_token(
    llm_client: httpx.AsyncClient, fake_llm: FakeOpenAI
) -> None:
    headers, chat_id = await _llm_chat(llm_client)
    fake_llm.push(http_error(500, times=10))
    _, events = await ask(llm_client, headers, chat_id, QUESTION)
    assert event_types(events)[-2:] == ["error", "[DONE]"]
    detail = (await llm_client.get(f"/api/v1/chats/{chat_id}", headers=headers)).json()
    assert [m["role"] for m in detail["messages"]] == ["user", "assistant"]
    assert detail["messages"][1]["partial"] is True


@pytest.mark.parametrize(
    ("question", "filename", "page"),
    [
        ("What is canister shot made of?", "Seige_of_Vicksburg_Sample_OCR.pdf", 3),
        (
            "Which packages constitute the NHNC1 LRS model?",
            "GeoBase_NHNC1_Data_Model_UML_EN.pdf",
            7,
        ),
    ],
)
async def test_answer_over_real_pdfs_cites_right_document_and_page(
    worker_client: httpx.AsyncClient, question: str, filename: str, page: int
) -> None:
    headers = await register(worker_client)
    for name in (
        "GeoBase_NHNC1_Data_Model_UML_EN.pdf",
        "Seige_of_Vicksburg_Sample_OCR.pdf",
        "crazyones.pdf",
    ):
        doc = (await upload(worker_client, headers, pdf(name))).json()[0]
        assert (await wait_until_settled(worker_client, headers, doc["id"]))["status"] == "ready"
    chat_id = await new_chat(worker_client, headers)
    _, events = await ask(worker_client, headers, chat_id, question)
    citations = by_type(events, "data-citations")["data"]["citations"]
    assert citations, answer_text(events)
    first_cited = next(c for c in citations if c["n"] == min(c["n"] for c in citations))
    assert first_cited["filename"] == filename
    assert first_cited["page_start"] <= page <= first_cited["page_end"]
    assert f"[{first_cited['n']}]" in answer_text(events)


LANTERN_NOTES = {
    "red.txt": b"Red lanterns hang on the north gate of the harbour every night.",
    "blue.txt": b"Blue lanterns hang on the south gate of the harbour every night.",
    "green.txt": b"Green lanterns hang on the east gate of the harbour every night.",
}


async def test_sources_are_numbered_in_the_order_the_answer_cites_them(
    llm_client: httpx.AsyncClient, fake_llm: FakeOpenAI
) -> None:
    """The model cites the 3rd and the 1st source shown to it: the reader sees [1] and [2],
    and every number leads to the passage the model cited, while streaming and stored."""
    headers = await register(llm_client)
    note_of: dict[str, str] = {}
    for name, text in LANTERN_NOTES.items():
        doc = (await upload(llm_client, headers, (name, text, "text/plain"))).json()[0]
        assert (await wait_until_settled(llm_client, headers, doc["id"]))["status"] == "ready"
        note_of[doc["id"]] = text.decode()
    chat_id = await new_chat(llm_client, headers)
    fake_llm.push(ok("Green at the east [3]. Red at the north [1, 3]. Again [3].", chunk_size=5))
    _, events = await ask(llm_client, headers, chat_id, "Which lanterns hang on the harbour gates?")

    shown = {s["n"]: s["document_id"] for s in by_type(events, "data-sources")["data"]["sources"]}
    assert len(shown) == 3  # the model was shown all three notes, numbered 1 to 3
    text = answer_text(events)
    assert text == "Green at the east [1]. Red at the north [2, 1]. Again [1]."
    # As the client reads the stream: each data-sources part replaces the previous one (same
    # id), and a marker always arrives after the part that numbers its source.
    current: dict[int, str] = {}
    streamed = ""
    for event in events:
        if isinstance(event, str):
            continue
        if event["type"] == "data-sources":
            assert event["id"] == "sources"
            current = {s["n"]: s["document_id"] for s in event["data"]["sources"]}
        elif event["type"] == "text-delta":
            streamed += event["delta"]
            if "[1]" in streamed or "[1," in streamed:
                assert current[1] == shown[3]
            if "[2" in streamed:
                assert current[2] == shown[1]
    assert current == {1: shown[3], 2: shown[1]}
    final = by_type(events, "data-citations")["data"]["citations"]
    assert [(c["n"], c["document_id"]) for c in final] == [(1, shown[3]), (2, shown[1])]
    for citation in final:
        assert citation["snippet"] == note_of[citation["document_id"]]

    stored = (await llm_client.get(f"/api/v1/chats/{chat_id}", headers=headers)).json()
    answer = stored["messages"][-1]
    assert answer["content"] == text
    assert [(c["n"], c["document_id"]) for c in answer["citations"]] == [
        (1, shown[3]),
        (2, shown[1]),
    ]
