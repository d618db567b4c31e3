"""Answer versions (regenerate, edit and send again, `< 2/3 >`), answers being written that
outlive their request, a failed answer retried, and the export of a chat."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import httpx
import psycopg
import pytest
from fastapi import FastAPI

from app.chat.answering import ANSWER_INTERRUPTED
from app.chat.service import ANSWER_STALLED
from app.core.database_url import libpq_url
from app.core.settings import Settings
from tests.chat.test_chat import answer_text, ask, by_type, event_types, new_chat, parse_sse
from tests.conftest import register, upload, wait_until_settled
from tests.fakes import FakeOpenAI, hang, http_error, ok

API = "/api/v1/chats"
QUESTION = "What does the text say about lighthouses?"
DOCUMENT = (
    "lighthouses.txt",
    b"Lighthouses guide ships at night. The keeper lit the lamp of the lighthouse at dusk.",
    "text/plain",
)


@pytest.fixture
async def chat(llm_client: httpx.AsyncClient) -> tuple[dict[str, str], str]:
    headers = await register(llm_client)
    doc = (await upload(llm_client, headers, DOCUMENT)).json()[0]
    assert (await wait_until_settled(llm_client, headers, doc["id"]))["status"] == "ready"
    return headers, await new_chat(llm_client, headers)


async def _detail(llm_client: httpx.AsyncClient, headers: dict[str, str], chat_id: str) -> Any:
    response = await llm_client.get(f"{API}/{chat_id}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def _regenerate(
    llm_client: httpx.AsyncClient, headers: dict[str, str], chat_id: str, message_id: str
) -> list[dict[str, Any] | str]:
    response = await llm_client.post(
        f"{API}/{chat_id}/messages/{message_id}/regenerate", headers=headers
    )
    assert response.status_code == 200, response.text
    return parse_sse(response.text)


def _summary(detail: Any) -> list[tuple[str, str, int, int]]:
    return [(m["role"], m["content"], m["version"], m["version_count"]) for m in detail["messages"]]


async def test_regenerate_keeps_every_version_with_its_own_sources(
    llm_client: httpx.AsyncClient, fake_llm: FakeOpenAI, chat: tuple[dict[str, str], str]
) -> None:
    headers, chat_id = chat
    fake_llm.push(ok("The keeper lit the lamp [1]."), ok("Lighthouses guide ships [1]."))
    _, first = await ask(llm_client, headers, chat_id, QUESTION)
    first_id = by_type(first, "start")["messageId"]
    second = await _regenerate(llm_client, headers, chat_id, first_id)
    assert event_types(second)[-3:] == ["data-citations", "finish", "[DONE]"]
    assert answer_text(second) == "Lighthouses guide ships [1]."
    second_id = by_type(second, "start")["messageId"]

    detail = await _detail(llm_client, headers, chat_id)
    assert _summary(detail) == [
        ("user", QUESTION, 1, 1),
        ("assistant", "Lighthouses guide ships [1].", 2, 2),
    ]
    assert detail["messages"][1]["version_ids"] == [first_id, second_id]
    # Each version keeps its own sources, highlighting what it took from them.
    old = (await llm_client.get(f"{API}/{chat_id}/messages/{first_id}", headers=headers)).json()
    new = detail["messages"][1]
    assert old["content"] == "The keeper lit the lamp [1]." and old["version"] == 1
    assert old["citations"][0]["snippet_highlights"] != new["citations"][0]["snippet_highlights"]
    assert "keeper lit the lamp" in old["citations"][0]["snippet"]

    # `< 1/2`: back to the first version; the next question follows the version shown.
    selected = await llm_client.post(f"{API}/{chat_id}/messages/{first_id}/select", headers=headers)
    assert selected.status_code == 200, selected.text
    assert _summary(selected.json())[1] == ("assistant", "The keeper lit the lamp [1].", 1, 2)
    assert _summary(await _detail(llm_client, headers, chat_id)) == _summary(selected.json())
    fake_llm.push(ok("At dusk [1]."))
    await ask(llm_client, headers, chat_id, "When was the lamp lit?")
    prompt = json.dumps(fake_llm.requests_to("chat")[-1].body["messages"])
    assert "The keeper lit the lamp [1]." in prompt
    assert "Lighthouses guide ships [1]." not in prompt


async def test_edit_a_question_and_send_it_again(
    llm_client: httpx.AsyncClient, fake_llm: FakeOpenAI, chat: tuple[dict[str, str], str]
) -> None:
    headers, chat_id = chat
    fake_llm.push(ok("Ships [1]."), ok("At dusk [1]."), ok("The keeper [1]."))
    await ask(llm_client, headers, chat_id, "What do lighthouses guide?")
    await ask(llm_client, headers, chat_id, "When is the lamp lit?")
    first_question = (await _detail(llm_client, headers, chat_id))["messages"][0]
    _, events = await ask(
        llm_client, headers, chat_id, "Who lit the lamp?", replaces=first_question["id"]
    )
    assert answer_text(events) == "The keeper [1]."
    # The edited question was sent without the turns that followed its old version.
    prompt = json.dumps(fake_llm.requests_to("chat")[-1].body["messages"])
    assert "At dusk" not in prompt and "Ships [1]." not in prompt
    edited = await _detail(llm_client, headers, chat_id)
    assert _summary(edited) == [
        ("user", "Who lit the lamp?", 2, 2),
        ("assistant", "The keeper [1].", 1, 1),
    ]
    # The old version still leads to the conversation that followed it.
    restored = await llm_client.post(
        f"{API}/{chat_id}/messages/{first_question['id']}/select", headers=headers
    )
    assert [m["content"] for m in restored.json()["messages"]] == [
        "What do lighthouses guide?",
        "Ships [1].",
        "When is the lamp lit?",
        "At dusk [1].",
    ]


async def test_versions_refuse_what_is_not_there(
    llm_client: httpx.AsyncClient, fake_llm: FakeOpenAI, chat: tuple[dict[str, str], str]
) -> None:
    headers, chat_id = chat
    _, events = await ask(llm_client, headers, chat_id, QUESTION)
    answer_id = by_type(events, "start")["messageId"]
    edit_an_answer = await llm_client.post(
        f"{API}/{chat_id}/messages",
        headers=headers,
        json={"content": "x", "replaces": answer_id},
    )
    assert edit_an_answer.status_code == 400
    assert edit_an_answer.json()["error"]["message"] == (
        "Only a question can be edited and sent again."
    )
    unknown = uuid.uuid4()
    for method, path in [
        ("POST", f"{API}/{chat_id}/messages/{unknown}/regenerate"),
        ("POST", f"{API}/{chat_id}/messages/{unknown}/select"),
        ("POST", f"{API}/{chat_id}/messages/{unknown}/stop"),
        ("GET", f"{API}/{chat_id}/messages/{unknown}"),
    ]:
        response = await llm_client.request(method, path, headers=headers)
        assert response.status_code == 404, (method, path, response.text)
    # A message of another chat of the same user is not a message of this one.
    other_chat = await new_chat(llm_client, headers)
    response = await llm_client.get(f"{API}/{other_chat}/messages/{answer_id}", headers=headers)
    assert response.status_code == 404


async def test_answer_is_saved_while_it_is_written(
    llm_client: httpx.AsyncClient, fake_llm: FakeOpenAI, chat: tuple[dict[str, str], str]
) -> None:
    headers, chat_id = chat
    full = " ".join(f"word{i}" for i in range(60))
    fake_llm.push(ok(full, chunk_size=6, delay_s=0.1))  # about 7 s
    asking = asyncio.create_task(ask(llm_client, headers, chat_id, QUESTION))
    seen: list[dict[str, Any]] = []
    for _ in range(200):
        detail = await _detail(llm_client, headers, chat_id)
        if len(detail["messages"]) == 2:
            seen.append(detail["messages"][1])
            if seen[-1]["status"] != "streaming":
                break
        await asyncio.sleep(0.1)
    await asking
    writing = [m for m in seen if m["status"] == "streaming"]
    assert writing[0]["content"] == "" or full.startswith(writing[0]["content"])
    growing = [m["content"] for m in writing if m["content"]]
    assert len(set(growing)) >= 2, "the text was not saved as it grew"
    assert all(full.startswith(text) and len(text) < len(full) for text in growing)
    assert seen[-1]["status"] == "done" and seen[-1]["content"] == full


async def _set_answer(database_url: str, answer_id: str, statement: str) -> None:
    async with await psycopg.AsyncConnection.connect(
        libpq_url(database_url), autocommit=True
    ) as connection:
        await connection.execute(statement, {"id": answer_id})


async def test_answer_left_streaming_by_a_dead_process_fails_and_can_be_retried(
    llm_client: httpx.AsyncClient,
    fake_llm: FakeOpenAI,
    chat: tuple[dict[str, str], str],
    settings: Settings,
) -> None:
    headers, chat_id = chat
    _, events = await ask(llm_client, headers, chat_id, QUESTION)
    answer_id = by_type(events, "start")["messageId"]
    # What a process killed mid-answer leaves: 'streaming', its last heartbeat long ago.
    assert settings.database_url
    await _set_answer(
        settings.database_url,
        answer_id,
        "UPDATE chat_messages SET status = 'streaming', updated_at = now() - interval '61 s'"
        " WHERE id = %(id)s",
    )
    answer = (await _detail(llm_client, headers, chat_id))["messages"][1]
    assert (answer["status"], answer["error"], answer["partial"]) == (
        "failed",
        ANSWER_STALLED,
        True,
    )
    # One beating recently is still being written.
    await _set_answer(
        settings.database_url,
        answer_id,
        "UPDATE chat_messages SET status = 'streaming', updated_at = now() - interval '5 s'"
        " WHERE id = %(id)s",
    )
    assert (await _detail(llm_client, headers, chat_id))["messages"][1]["status"] == "streaming"


async def test_answers_being_written_when_the_server_stops_end_failed_with_a_reason(
    llm_app: FastAPI,
    llm_client: httpx.AsyncClient,
    fake_llm: FakeOpenAI,
    chat: tuple[dict[str, str], str],
) -> None:
    headers, chat_id = chat
    fake_llm.push(hang())
    asking = asyncio.create_task(ask(llm_client, headers, chat_id, QUESTION))
    for _ in range(300):
        if fake_llm.requests_to("chat"):
            break
        await asyncio.sleep(0.05)
    # The model never answers; the server shuts down (its grace period here: 0.2 s).
    await llm_app.state.answer_runs.close(grace_s=0.2)
    _, events = await asyncio.wait_for(asking, timeout=10)
    assert "finish" not in event_types(events)  # the listener's stream just ends
    answer = (await _detail(llm_client, headers, chat_id))["messages"][1]
    assert (answer["status"], answer["error"], answer["partial"]) == (
        "failed",
        ANSWER_INTERRUPTED,
        True,
    )


async def test_failed_answer_says_why_and_retry_regenerates_it(
    llm_client: httpx.AsyncClient, fake_llm: FakeOpenAI, chat: tuple[dict[str, str], str]
) -> None:
    headers, chat_id = chat
    fake_llm.push(http_error(400, message="context too long"), ok("The keeper [1]."))
    _, events = await ask(llm_client, headers, chat_id, QUESTION)
    assert event_types(events)[-2:] == ["error", "[DONE]"]
    failed = (await _detail(llm_client, headers, chat_id))["messages"][1]
    assert failed["status"] == "failed"
    assert failed["error"] == by_type(events, "error")["errorText"]
    retried = await _regenerate(llm_client, headers, chat_id, failed["id"])
    assert answer_text(retried) == "The keeper [1]."
    assert _summary(await _detail(llm_client, headers, chat_id))[1] == (
        "assistant",
        "The keeper [1].",
        2,
        2,
    )


async def test_stop_ends_the_answer_and_keeps_what_it_wrote(
    llm_client: httpx.AsyncClient, fake_llm: FakeOpenAI, chat: tuple[dict[str, str], str]
) -> None:
    headers, chat_id = chat
    full = " ".join(f"word{i}" for i in range(400))
    fake_llm.push(ok(full, chunk_size=5, delay_s=0.05))  # 30 s unless stopped
    asking = asyncio.create_task(ask(llm_client, headers, chat_id, QUESTION))
    for _ in range(200):
        messages = (await _detail(llm_client, headers, chat_id))["messages"]
        if len(messages) == 2 and messages[1]["content"]:
            break
        await asyncio.sleep(0.1)
    answer_id = messages[1]["id"]
    stopped = await llm_client.post(f"{API}/{chat_id}/messages/{answer_id}/stop", headers=headers)
    assert stopped.status_code == 204
    _, events = await asyncio.wait_for(asking, timeout=10)
    assert event_types(events)[-2:] == ["finish", "[DONE]"]
    assert by_type(events, "data-citations")["data"]["partial"] is True
    answer = (await llm_client.get(f"{API}/{chat_id}/messages/{answer_id}", headers=headers)).json()
    assert answer["status"] == "done" and answer["partial"] is True
    assert answer["content"] == answer_text(events)
    assert full.startswith(answer["content"]) and len(answer["content"]) < len(full) / 2
    assert fake_llm.requests_to("chat")[-1].disconnected.wait(5), "the model kept generating"


async def test_export_markdown_and_json(
    llm_client: httpx.AsyncClient, fake_llm: FakeOpenAI, chat: tuple[dict[str, str], str]
) -> None:
    headers, chat_id = chat
    fake_llm.push(ok("The keeper lit the lamp [1]."), ok("Ships [1]."))
    _, events = await ask(llm_client, headers, chat_id, QUESTION)
    await _regenerate(llm_client, headers, chat_id, by_type(events, "start")["messageId"])

    markdown = await llm_client.get(f"{API}/{chat_id}/export", headers=headers)
    assert markdown.status_code == 200
    assert markdown.headers["content-type"] == "text/markdown; charset=utf-8"
    assert markdown.headers["content-disposition"] == (
        'attachment; filename="What-does-the-text-say-about-lighthouses.md"'
    )
    text = markdown.text
    assert text.startswith("# What does the text say about lighthouses?\n")
    assert f"## Question\n\n{QUESTION}\n\n### Answer\n\nShips [1].\n\nSources:\n\n" in text
    assert "- [1] lighthouses.txt, page 1 — “Lighthouses guide ships at night." in text
    assert "_(Version 2 of 2.)_" in text
    assert "The keeper lit the lamp [1]." not in text  # the conversation as shown

    exported = await llm_client.get(f"{API}/{chat_id}/export?format=json", headers=headers)
    assert exported.status_code == 200
    assert exported.headers["content-disposition"].endswith('.json"')
    body = exported.json()
    assert body["format"] == "docchat.chat.v1"
    assert body["chat"]["id"] == chat_id
    assert [m["content"] for m in body["messages"]] == [QUESTION, "Ships [1]."]
    assert [m["content"] for m in body["all_messages"]] == [
        QUESTION,
        "The keeper lit the lamp [1].",
        "Ships [1].",
    ]
    assert body["all_messages"][1]["citations"][0]["filename"] == "lighthouses.txt"
    assert (
        await llm_client.get(f"{API}/{chat_id}/export?format=pdf", headers=headers)
    ).status_code == 422
    stranger = await register(llm_client)
    assert (await llm_client.get(f"{API}/{chat_id}/export", headers=stranger)).status_code == 404
