"""Organising conversations: search, pin and archive, feedback, model choice, suggested
questions, and `docchat eval feedback` / `eval regression` built on the ratings."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from app.chat.models import MessageFeedback
from app.core.settings import LLMModelConfig, Settings
from app.evaluation.feedback import export_feedback, read_cases, score_cases
from app.main import create_app
from app.search.config import get_retrieval_params
from app.search.retrieval import RetrievalParams
from tests.chat.test_chat import answer_text, ask, new_chat
from tests.conftest import pdf, register, upload_and_settle
from tests.fakes import FakeOpenAI, ok

API = "/api/v1"
HARBOUR_DOC = (
    "quillomere-harbour.md",
    b"# Quillomere harbour guide\n\n"
    b"## Ferries\n\n"
    b"The quillomere ferries leave the brantwhistle pier at dawn every Thursday.\n\n"
    b"## Lighthouse\n\n"
    b"The osskerry lighthouse was painted red and white in 1911.\n",
    "text/markdown",
)
FERRY_QUESTION = "When do the quillomere ferries leave the brantwhistle pier?"


async def asked(client: httpx.AsyncClient, headers: dict[str, str], question: str) -> str:
    """A chat with one question answered (without documents: "could not find")."""
    chat_id = await new_chat(client, headers)
    response, _ = await ask(client, headers, chat_id, question)
    assert response.status_code == 200, response.text
    return chat_id


async def listed(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> Any:
    response = await client.get(f"{API}/chats", headers=headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def marked(snippet: dict[str, Any]) -> list[str]:
    return [snippet["text"][start:end] for start, end in snippet["highlights"]]


# --------------------------------------------------------------------------- search


async def test_search_finds_own_chats_by_question_with_highlights(
    client: httpx.AsyncClient,
) -> None:
    alice = await register(client)
    bob = await register(client)
    harbour = await asked(client, alice, "Where do the quillomere harbours keep their boats?")
    await asked(client, alice, "What was the budget for 2027?")
    bobs = await asked(client, bob, "Tell me about quillomere")

    found = await listed(client, alice, q="quillomere harbour")
    assert [chat["id"] for chat in found] == [harbour]
    snippet = found[0]["snippet"]
    assert snippet["role"] in ("user", "title")
    # Stemmed: "harbour" finds "harbours"; the ranges mark exactly the matched words.
    assert {word.lower() for word in marked(snippet)} >= {"quillomere", "harbours"}
    assert [chat["id"] for chat in await listed(client, bob, q="quillomere")] == [bobs]
    assert await listed(client, alice, q="quillomere -harbour") == []
    assert await listed(client, alice, q="nothing-like-this-anywhere") == []


async def test_search_matches_answers_and_keeps_markup_as_text(client: httpx.AsyncClient) -> None:
    alice = await register(client)
    question = 'The brantwhistle <b>maps</b> & <img src=x onerror="alert(1)"> drawers'
    chat_id = await asked(client, alice, question)
    # Answers are searched too: without documents the answer says it could not find anything.
    by_answer = await listed(client, alice, q="rephrasing")
    assert [chat["id"] for chat in by_answer] == [chat_id]
    assert by_answer[0]["snippet"]["role"] == "assistant"
    snippet = (await listed(client, alice, q="brantwhistle"))[0]["snippet"]
    # Plain text with ranges: the text is characters of the question as typed (markup
    # included, never added), the ranges mark the match; nothing for a browser to trust.
    assert snippet["text"].strip("…") in question
    assert marked(snippet) == ["brantwhistle"]


async def test_pin_and_archive(client: httpx.AsyncClient) -> None:
    alice = await register(client)
    first = await asked(client, alice, "first quillomere question")
    second = await asked(client, alice, "second quillomere question")
    third = await asked(client, alice, "third question")
    assert [c["id"] for c in await listed(client, alice)] == [third, second, first]

    pinned = await client.patch(f"{API}/chats/{first}", headers=alice, json={"pinned": True})
    assert pinned.status_code == 200 and pinned.json()["pinned_at"] is not None
    assert [c["id"] for c in await listed(client, alice)] == [first, third, second]

    archived = await client.patch(f"{API}/chats/{second}", headers=alice, json={"archived": True})
    assert archived.json()["archived_at"] is not None
    assert [c["id"] for c in await listed(client, alice)] == [first, third]
    assert [c["id"] for c in await listed(client, alice, archived="true")] == [second]
    # Search hides archived chats the same way.
    assert [c["id"] for c in await listed(client, alice, q="quillomere")] == [first]
    assert [c["id"] for c in await listed(client, alice, q="quillomere", archived="true")] == [
        second
    ]

    await client.patch(f"{API}/chats/{second}", headers=alice, json={"archived": False})
    await client.patch(f"{API}/chats/{first}", headers=alice, json={"pinned": False})
    assert [c["id"] for c in await listed(client, alice)] == [third, second, first]
    bob = await register(client)
    stranger = await client.patch(f"{API}/chats/{first}", headers=bob, json={"pinned": True})
    assert stranger.status_code == 404


async def test_a_long_first_question_titles_the_chat_in_whole_words(
    client: httpx.AsyncClient,
) -> None:
    alice = await register(client)
    question = (
        "What does the quillomere harbour guide say about the ferries to the brantwhistle pier?"
    )
    chat_id = await asked(client, alice, question)
    title = (await client.get(f"{API}/chats/{chat_id}", headers=alice)).json()["title"]
    assert title == "What does the quillomere harbour guide say about the…"
    assert question.startswith(title.removesuffix("…"))


async def test_archived_chats_are_in_the_data_export(client: httpx.AsyncClient) -> None:
    alice = await register(client)
    archived = await asked(client, alice, "An archived quillomere question")
    await client.patch(f"{API}/chats/{archived}", headers=alice, json={"archived": True})
    export = await client.get(f"{API}/auth/me/export", headers=alice)
    archive = zipfile.ZipFile(io.BytesIO(export.content))
    exported = [
        json.loads(archive.read(name))["chat"]["id"]
        for name in archive.namelist()
        if name.startswith("chats/") and name.endswith(".json")
    ]
    assert exported == [archived]


# --------------------------------------------------------------------------- feedback


async def _answer_id(client: httpx.AsyncClient, headers: dict[str, str], chat_id: str) -> str:
    detail = (await client.get(f"{API}/chats/{chat_id}", headers=headers)).json()
    return str(next(m["id"] for m in detail["messages"] if m["role"] == "assistant"))


async def test_feedback_is_set_replaced_and_cleared(client: httpx.AsyncClient) -> None:
    alice = await register(client)
    chat_id = await asked(client, alice, "Where are the brantwhistle maps?")
    answer_id = await _answer_id(client, alice, chat_id)
    path = f"{API}/chats/{chat_id}/messages/{answer_id}/feedback"

    rated = await client.put(path, headers=alice, json={"rating": -1, "comment": " Wrong! "})
    assert rated.status_code == 200, rated.text
    assert rated.json()["rating"] == -1 and rated.json()["comment"] == "Wrong!"
    again = await client.put(path, headers=alice, json={"rating": 1})
    assert again.json() == {**again.json(), "rating": 1, "comment": None}
    detail = (await client.get(f"{API}/chats/{chat_id}", headers=alice)).json()
    feedbacks = {m["role"]: m["feedback"] for m in detail["messages"]}
    assert feedbacks["assistant"]["rating"] == 1 and feedbacks["user"] is None

    assert (await client.delete(path, headers=alice)).status_code == 204
    detail = (await client.get(f"{API}/chats/{chat_id}", headers=alice)).json()
    assert all(m["feedback"] is None for m in detail["messages"])

    question_id = next(m["id"] for m in detail["messages"] if m["role"] == "user")
    on_question = await client.put(
        f"{API}/chats/{chat_id}/messages/{question_id}/feedback", headers=alice, json={"rating": 1}
    )
    assert on_question.status_code == 400
    assert on_question.json()["error"]["message"] == "Only answers can be rated, not questions."
    assert (await client.put(path, headers=alice, json={"rating": 0})).status_code == 422
    bob = await register(client)
    assert (await client.put(path, headers=bob, json={"rating": 1})).status_code == 404
    assert (await client.delete(path, headers=bob)).status_code == 404
    other_chat = await asked(client, alice, "another question")
    wrong_chat = f"{API}/chats/{other_chat}/messages/{answer_id}/feedback"
    assert (await client.put(wrong_chat, headers=alice, json={"rating": 1})).status_code == 404


class HarbourAnswer(NamedTuple):
    """A user with a ready document, a chat that asked about it, and the answer."""

    headers: dict[str, str]
    document_id: str
    chat_id: str
    answer_id: str


async def harbour_answer(client: httpx.AsyncClient) -> HarbourAnswer:
    headers = await register(client, email="rater@example.com")
    document = await upload_and_settle(client, headers, *HARBOUR_DOC)
    assert document["status"] == "ready", document
    chat_id = await new_chat(client, headers)
    response, events = await ask(client, headers, chat_id, FERRY_QUESTION)
    assert response.status_code == 200 and "dawn" in answer_text(events)
    answer_id = await _answer_id(client, headers, chat_id)
    return HarbourAnswer(headers, document["id"], chat_id, answer_id)


@pytest.fixture
async def harbour(worker_client: httpx.AsyncClient) -> HarbourAnswer:
    return await harbour_answer(worker_client)


async def test_liked_answer_becomes_a_regression_case_that_catches_broken_retrieval(
    worker_app: FastAPI,
    worker_client: httpx.AsyncClient,
    harbour: HarbourAnswer,
    settings: Settings,
    tmp_path: Path,
) -> None:
    headers, _, chat_id, answer_id = harbour
    feedback_path = f"{API}/chats/{chat_id}/messages/{answer_id}/feedback"
    liked = await worker_client.put(feedback_path, headers=headers, json={"rating": 1})
    assert liked.status_code == 200
    # Thumbs-down on another answer, for the review file.
    other = await new_chat(worker_client, headers)
    await ask(worker_client, headers, other, "What colour is the osskerry lighthouse?")
    other_answer = await _answer_id(worker_client, headers, other)
    await worker_client.put(
        f"{API}/chats/{other}/messages/{other_answer}/feedback",
        headers=headers,
        json={"rating": -1, "comment": "It should say the year too."},
    )

    sessionmaker = worker_app.state.sessionmaker
    async with sessionmaker() as session:
        stored = (
            await session.execute(
                select(MessageFeedback).where(MessageFeedback.message_id == answer_id)
            )
        ).scalar_one()
    # Stored with the question, the answer and the passages as they were (full text).
    assert stored.question == FERRY_QUESTION
    assert "dawn" in stored.answer
    assert stored.passages and "brantwhistle pier at dawn" in stored.passages[0]["text"]
    # and every passage the answer was given, cited or not, in rank order with its text
    assert stored.retrieved is not None
    retrieved = {passage["chunk_id"]: passage for passage in stored.retrieved}
    assert {passage["chunk_id"] for passage in stored.passages} <= set(retrieved)
    assert [p["score"] for p in stored.retrieved] == sorted(
        (p["score"] for p in stored.retrieved), reverse=True
    )
    assert all(p["text"] and p["filename"] == HARBOUR_DOC[0] for p in stored.retrieved)

    summary = await export_feedback(sessionmaker, tmp_path / "out")
    assert (summary.reviewed, summary.cases) == (1, 1)
    review = (tmp_path / "out" / "review.md").read_text()
    assert "What colour is the osskerry lighthouse?" in review
    assert "> It should say the year too." in review
    assert "red and white" in review
    cases = list(read_cases(summary.cases_path))
    assert cases[0]["question"] == FERRY_QUESTION
    assert cases[0]["user_email"] == "rater@example.com"
    assert cases[0]["expected"][0]["filename"] == "quillomere-harbour.md"

    good = await score_cases(sessionmaker, settings, cases, params=get_retrieval_params())
    assert good.summary() == {"cases": 1, "passed": 1, "failed": 0, "skipped": 0, "recall": 1.0}
    # A retrieval change that no longer finds the liked passage fails the score.
    broken = RetrievalParams(min_similarity=1.01, min_keyword_coverage=1.01)
    bad = await score_cases(sessionmaker, settings, cases, params=broken)
    assert bad.summary()["failed"] == 1 and bad.summary()["recall"] == 0.0

    # One user's ratings only; another user has none.
    await register(worker_client, email="quiet@example.com")
    only = await export_feedback(sessionmaker, tmp_path / "quiet", email="quiet@example.com")
    assert (only.reviewed, only.cases) == (0, 0)

    # A deleted document makes its case skipped, not failed.
    document_id = cases[0]["expected"][0]["document_id"]
    await worker_client.delete(f"{API}/documents/{document_id}", headers=headers)
    gone = await score_cases(sessionmaker, settings, cases, params=get_retrieval_params())
    assert gone.summary()["skipped"] == 1 and gone.summary()["failed"] == 0


# --------------------------------------------------------------------------- model choice


@pytest.fixture
def second_llm() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(api_key="sk-hosted-key") as server:
        yield server


@pytest.fixture
async def models_client(
    settings: Settings,
    fake_llm: FakeOpenAI,
    second_llm: FakeOpenAI,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[httpx.AsyncClient]:
    """No default LLM (extractive), two models to choose from, each on its own server."""
    monkeypatch.setenv("TEST_HOSTED_KEY", "sk-hosted-key")
    monkeypatch.setenv("TEST_LOCAL_KEY", "sk-test-key")
    configured = settings.model_copy(
        update={
            "run_worker": True,
            "llm_models": [
                LLMModelConfig(
                    id="local",
                    label="Llama (local)",
                    model="llama-local",
                    base_url=fake_llm.base_url,
                    api_key_env="TEST_LOCAL_KEY",
                ),
                LLMModelConfig(
                    id="hosted",
                    label="Hosted model",
                    model="hosted-large",
                    base_url=second_llm.base_url,
                    api_key_env="TEST_HOSTED_KEY",
                ),
            ],
        }
    )
    application = create_app(configured)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c


async def test_the_chosen_model_answers(
    models_client: httpx.AsyncClient, fake_llm: FakeOpenAI, second_llm: FakeOpenAI
) -> None:
    headers = await register(models_client)
    models = (await models_client.get(f"{API}/models", headers=headers)).json()
    assert models == {
        "default": {"id": None, "label": "Quotes from your documents (no language model)"},
        "models": [
            {"id": "local", "label": "Llama (local)"},
            {"id": "hosted", "label": "Hosted model"},
        ],
    }
    assert "base_url" not in json.dumps(models) and "sk-" not in json.dumps(models)
    document = await upload_and_settle(models_client, headers, *HARBOUR_DOC)
    assert document["status"] == "ready"

    second_llm.push(ok("They leave at dawn [1]."))
    hosted = await new_chat(models_client, headers, model="hosted")
    _, events = await ask(models_client, headers, hosted, FERRY_QUESTION)
    assert answer_text(events) == "They leave at dawn [1]."
    request = second_llm.requests_to("chat")[-1]
    assert request.body["model"] == "hosted-large"
    assert request.headers["authorization"] == "Bearer sk-hosted-key"
    assert fake_llm.requests_to("chat") == []

    # The default (no model) stays extractive: no model server is called.
    default = await new_chat(models_client, headers)
    _, events = await ask(models_client, headers, default, FERRY_QUESTION)
    assert "brantwhistle pier at dawn" in answer_text(events)
    assert len(second_llm.requests_to("chat")) == 1 and fake_llm.requests_to("chat") == []

    # Switching the chat's model switches the server that answers.
    switched = await models_client.patch(
        f"{API}/chats/{default}", headers=headers, json={"model": "local"}
    )
    assert switched.status_code == 200 and switched.json()["model"] == "local"
    fake_llm.push(ok("At dawn [1]."))
    _, events = await ask(models_client, headers, default, "And the lighthouse colour?")
    assert fake_llm.requests_to("chat")[-1].body["model"] == "llama-local"

    unknown = await models_client.post(f"{API}/chats", headers=headers, json={"model": "gpt-9"})
    assert unknown.status_code == 422
    assert "gpt-9" in unknown.json()["error"]["message"]


def test_llm_models_setting_is_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "LLM_MODELS",
        '[{"id": "ollama", "label": "Llama 3.1 (local)", "model": "llama3.1", '
        '"base_url": "http://localhost:11434/v1", "api_key_env": "OLLAMA_KEY"}]',
    )
    monkeypatch.setenv("OLLAMA_KEY", "sk-local")
    parsed = Settings(_env_file=None)
    assert parsed.llm_models[0].model == "llama3.1"
    assert parsed.llm_models[0].api_key() == "sk-local"
    monkeypatch.setenv(
        "LLM_MODELS",
        '[{"id": "a", "label": "A", "model": "m"}, {"id": "a", "label": "B", "model": "n"}]',
    )
    with pytest.raises(ValueError, match="more than once"):
        Settings(_env_file=None)
    # The key goes in the environment, not in LLM_MODELS.
    monkeypatch.setenv(
        "LLM_MODELS", '[{"id": "a", "label": "A", "model": "m", "api_key_env": "sk-live-123"}]'
    )
    with pytest.raises(ValueError, match="api_key_env"):
        Settings(_env_file=None)


# --------------------------------------------------------------------------- suggestions


async def test_suggested_questions_from_headings(worker_client: httpx.AsyncClient) -> None:
    headers = await register(worker_client)
    document = await upload_and_settle(worker_client, headers, *HARBOUR_DOC)
    path = f"{API}/documents/{document['id']}/suggested-questions"
    response = await worker_client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["source"] == "headings"
    assert body["questions"] == [
        "What is “Quillomere harbour guide” about?",
        "What does the document say about Ferries?",
        "What does the document say about Lighthouse?",
        # A noun phrase of its text (the old fallback asked about "leave").
        "What does the document say about brantwhistle pier?",
    ]
    stranger = await register(worker_client)
    assert (await worker_client.get(path, headers=stranger)).status_code == 404


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "crazyones.pdf",
            [
                "What is “The Crazy Ones” about?",
                "What does the document say about round pegs?",
                "What does the document say about square holes?",
                "What does the document say about status quo?",
            ],
        ),
        (
            # A title page, a revision history and a table of contents, no headings.
            "GeoBase_NHNC1_Data_Model_UML_EN.pdf",
            [
                "What is “National Hydro Network, Canada, Level 1” about?",
                "What does the document say about Nova Scotia?",
                "What does the document say about LRS?",
                "What does the document say about British Columbia?",
            ],
        ),
    ],
)
async def test_suggested_questions_of_a_pdf_without_headings(
    worker_client: httpx.AsyncClient, name: str, expected: list[str]
) -> None:
    """Its first line as the title and the key terms of its opening text; the old fallback
    asked about "crazy", "things", "change", "people" and "draft", "canada", "model"."""
    headers = await register(worker_client)
    document = await upload_and_settle(worker_client, headers, *pdf(name))
    assert document["status"] == "ready", document
    path = f"{API}/documents/{document['id']}/suggested-questions"
    body = (await worker_client.get(path, headers=headers)).json()
    assert (body["questions"], body["source"]) == (expected, "headings")


async def test_suggested_questions_by_the_llm_are_kept(
    llm_client: httpx.AsyncClient, fake_llm: FakeOpenAI
) -> None:
    headers = await register(llm_client)
    document = await upload_and_settle(llm_client, headers, *HARBOUR_DOC)
    fake_llm.push(ok("1. When do the ferries leave?\n- What colour is the lighthouse?\nThanks"))
    path = f"{API}/documents/{document['id']}/suggested-questions"
    first = (await llm_client.get(path, headers=headers)).json()
    assert first["source"] == "llm"
    assert first["questions"] == [
        "When do the ferries leave?",
        "What colour is the lighthouse?",
    ]
    prompt = fake_llm.requests_to("chat")[-1].body["messages"][-1]["content"]
    assert "Ferries" in prompt and "brantwhistle pier" in prompt
    assert (await llm_client.get(path, headers=headers)).json() == first
    assert len(fake_llm.requests_to("chat")) == 1


BAKERY_DOC = (
    "osskerry-bakery.md",
    b"# Osskerry bakery notes\n\n"
    b"## Rye bread\n\nThe osskerry bakers bake rye bread before the ferries leave.\n\n"
    b"## Harbour cakes\n\nHarbour cakes are sold on the pier on Saturdays.\n",
    "text/markdown",
)
SCOPE_PATH = f"{API}/suggested-questions"


async def scope_questions(
    client: httpx.AsyncClient, headers: dict[str, str], **params: str
) -> dict[str, Any]:
    response = await client.get(SCOPE_PATH, headers=headers, params=params)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_suggested_questions_for_a_chat_scope(worker_client: httpx.AsyncClient) -> None:
    """An empty chat's start: the questions of the scope's first (chosen) or newest ready
    documents, in turns; nothing (and no document) when nothing in the scope is ready."""
    client = worker_client
    headers = await register(client)
    assert await scope_questions(client, headers) == {"questions": [], "document_ids": []}
    harbour = (await upload_and_settle(client, headers, *HARBOUR_DOC))["id"]
    bakery = (await upload_and_settle(client, headers, *BAKERY_DOC))["id"]

    everything = await scope_questions(client, headers)
    assert everything["document_ids"] == [bakery, harbour]  # the newest first
    assert everything["questions"] == [
        "What is “Osskerry bakery notes” about?",
        "What is “Quillomere harbour guide” about?",
        "What does the document say about Rye bread?",
        "What does the document say about Ferries?",
    ]
    chosen = await scope_questions(client, headers, document_ids=harbour)
    assert chosen["document_ids"] == [harbour]
    assert chosen["questions"][:3] == [
        "What is “Quillomere harbour guide” about?",
        "What does the document say about Ferries?",
        "What does the document say about Lighthouse?",
    ]

    collection = await client.post(f"{API}/collections", headers=headers, json={"name": "Bakery"})
    assert collection.status_code == 201, collection.text
    collection_id = collection.json()["id"]
    empty = await scope_questions(client, headers, collection_id=collection_id)
    assert empty == {"questions": [], "document_ids": []}
    added = await client.post(
        f"{API}/collections/{collection_id}/documents",
        headers=headers,
        json={"document_ids": [bakery]},
    )
    assert added.status_code == 204, added.text
    in_collection = await scope_questions(client, headers, collection_id=collection_id)
    assert in_collection["document_ids"] == [bakery]
    assert "What does the document say about Harbour cakes?" in in_collection["questions"]
    assert not any("Ferries" in question for question in in_collection["questions"])

    # Someone else: the documents are left out, the collection is not found.
    stranger = await register(client)
    own = (await upload_and_settle(client, stranger, *HARBOUR_DOC))["id"]
    mixed = await scope_questions(client, stranger, document_ids=f"{harbour},{own},{bakery}")
    assert mixed["document_ids"] == [own]
    assert await scope_questions(client, stranger, document_ids=bakery) == {
        "questions": [],
        "document_ids": [],
    }
    hidden = await client.get(SCOPE_PATH, headers=stranger, params={"collection_id": collection_id})
    assert hidden.status_code == 404
    assert hidden.json()["error"]["code"] == "not_found"
    bad = await client.get(SCOPE_PATH, headers=headers, params={"document_ids": "not-an-id"})
    assert bad.status_code == 422
    assert "document ids" in bad.json()["error"]["message"]
