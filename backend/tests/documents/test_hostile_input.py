"""Hostile input: forged and stale tokens, malformed JSON text, and files built to hurt the
upload path or the worker. Everything ends as a clear 4xx or a `failed` document with a
reason; never a 500, never a stuck worker, never an effect on another user.

(test_auth.py already covers expired, wrong-signature, HS512, alg none, missing kid and
refresh-typed access tokens, refresh replay and logout; test_documents.py a single highly
compressed DOCX member, empty files, one spoofed PNG, one hostile filename and an oversize
body with Content-Length. This module adds the rest.)"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import io
import json
import select
import socket
import time
import uuid
import zipfile
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import jwt
import psycopg
import pytest

from app.core import security
from app.core.settings import Settings
from app.main import create_app
from tests.conftest import (
    CORPUS,
    TEST_SECRET,
    make_settings,
    pdf,
    register,
    upload,
    wait_until_settled,
)
from tests.ops.test_faults import LiveServer, module_database

API = "/api/v1"
MAX_UPLOAD_MB = 2


def _b64(data: bytes | dict[str, Any]) -> str:
    raw = json.dumps(data).encode() if isinstance(data, dict) else data
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unsigned(header: dict[str, Any], payload: dict[str, Any], signature: bytes = b"") -> str:
    return f"{_b64(header)}.{_b64(payload)}.{_b64(signature) if signature else ''}"


async def _me(client: httpx.AsyncClient, authorization: str | bytes) -> httpx.Response:
    return await client.get(f"{API}/auth/me", headers={"Authorization": authorization})


# --------------------------------------------------------------------------- tokens


async def test_forged_access_tokens_are_401(client: httpx.AsyncClient) -> None:
    alice = await register(client)
    bob = await register(client)
    alice_id = (await client.get(f"{API}/auth/me", headers=alice)).json()["id"]
    bob_id = (await client.get(f"{API}/auth/me", headers=bob)).json()["id"]
    kid = security.key_id(TEST_SECRET)
    now = int(time.time())
    # sid: a sign-in (refresh-token family) that was never logged out.
    claims = {
        "sub": alice_id,
        "sid": str(uuid.uuid4()),
        "type": "access",
        "iat": now,
        "exp": now + 300,
    }

    valid = jwt.encode(claims, TEST_SECRET, algorithm="HS256", headers={"kid": kid})
    assert (await _me(client, f"Bearer {valid}")).status_code == 200  # the control
    header_b64, _, signature_b64 = valid.split(".")
    tampered = f"{header_b64}.{_b64({**claims, 'sub': bob_id})}.{signature_b64}"

    forged = {
        # Alice's signature on Bob's identity.
        "tampered payload": tampered,
        # Case variants of "none" that naive checks miss.
        **{
            f"alg {alg}": _unsigned({"alg": alg, "typ": "JWT", "kid": kid}, claims)
            for alg in ("None", "NONE", "nOnE")
        },
        # Asymmetric algorithms (with junk signatures) and HMAC keyed with public values.
        "alg RS256": _unsigned({"alg": "RS256", "kid": kid}, claims, b"\x01" * 256),
        "alg ES256": _unsigned({"alg": "ES256", "kid": kid}, claims, b"\x02" * 64),
        "HMAC keyed with the kid": jwt.encode(
            claims, kid + "-padding-to-32-bytes-long", algorithm="HS256", headers={"kid": kid}
        ),
        "kid path traversal": jwt.encode(
            claims, TEST_SECRET, algorithm="HS256", headers={"kid": "../../../dev/null"}
        ),
        "kid SQL": jwt.encode(
            claims, TEST_SECRET, algorithm="HS256", headers={"kid": "x' OR '1'='1"}
        ),
        "no exp": jwt.encode(
            {k: v for k, v in claims.items() if k != "exp"},
            TEST_SECRET,
            algorithm="HS256",
            headers={"kid": kid},
        ),
        "not yet valid": jwt.encode(
            {**claims, "nbf": now + 3600}, TEST_SECRET, algorithm="HS256", headers={"kid": kid}
        ),
        "sub not a uuid": jwt.encode(
            {**claims, "sub": "1 OR 1=1"}, TEST_SECRET, algorithm="HS256", headers={"kid": kid}
        ),
        "sub of nobody": jwt.encode(
            {**claims, "sub": str(uuid.uuid4())},
            TEST_SECRET,
            algorithm="HS256",
            headers={"kid": kid},
        ),
        "far-future exp, long expired iat": jwt.encode(
            {**claims, "iat": now - 10**9, "exp": now - 10**9 + 60},
            TEST_SECRET,
            algorithm="HS256",
            headers={"kid": kid},
        ),
        "two dots only": "..",
        "huge": "a" * 16_000,
    }
    for name, token in forged.items():
        response = await _me(client, f"Bearer {token}")
        assert response.status_code == 401, (name, response.status_code, response.text)
        assert response.json()["error"]["code"] == "unauthorized", name

    # Malformed Authorization headers, including bytes that are not UTF-8.
    for authorization in (
        "Bearer",
        "Bearer ",
        f"Basic {base64.b64encode(b'alice:password').decode()}",
        f"Bearer {valid} extra",
        f"Token {valid}",
        b"Bearer \xff\xfe\x00garbage",
    ):
        response = await _me(client, authorization)
        assert response.status_code == 401, (authorization, response.text)

    # A refresh token is not an access token.
    login = await client.post(
        f"{API}/auth/login",
        json={"email": (await client.get(f"{API}/auth/me", headers=alice)).json()["email"]}
        | {"password": "correct-horse-battery"},
    )
    assert (await _me(client, f"Bearer {login.json()['refresh_token']}")).status_code == 401


@pytest.fixture
async def unlimited_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app without rate limits (this module logs one account in many times)."""
    app = create_app(settings.model_copy(update={"rate_limit_enabled": False}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c


async def test_stale_and_misused_refresh_tokens_are_401(
    unlimited_client: httpx.AsyncClient, database_url: str
) -> None:
    client = unlimited_client
    email = f"refresh-{uuid.uuid4().hex[:6]}@example.com"
    await register(client, email)

    async def login() -> dict[str, Any]:
        response = await client.post(
            f"{API}/auth/login", json={"email": email, "password": "correct-horse-battery"}
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def refresh(token: str) -> httpx.Response:
        return await client.post(f"{API}/auth/refresh", json={"refresh_token": token})

    # Expired (in the database) although never used or revoked.
    expired = await login()
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "UPDATE refresh_tokens SET expires_at = now() - interval '1 second' "
            "WHERE token_hash = %s",
            (security.hash_opaque_token(expired["refresh_token"]),),
        )
    assert (await refresh(expired["refresh_token"])).status_code == 401

    # An access token (a JWT) presented as a refresh token.
    assert (await refresh((await login())["access_token"])).status_code == 401

    # Two tabs racing with the same refresh token: exactly one wins, and because the loser
    # is a replay, the family (with the winner's new token) is revoked.
    raced = await login()
    first, second = await asyncio.gather(
        refresh(raced["refresh_token"]), refresh(raced["refresh_token"])
    )
    assert sorted([first.status_code, second.status_code]) == [200, 401]
    winner = first if first.status_code == 200 else second
    assert (await refresh(winner.json()["refresh_token"])).status_code == 401

    # A refresh token revoked by logout stays dead, even after a new login.
    revoked = await login()
    assert (
        await client.post(f"{API}/auth/logout", json={"refresh_token": revoked["refresh_token"]})
    ).status_code == 204
    await login()
    assert (await refresh(revoked["refresh_token"])).status_code == 401

    # Junk of every shape.
    for junk in ("x" * 512, "\x00", "' OR 1=1 --", "🔑" * 100):
        response = await refresh(junk)
        assert response.status_code == 401, (junk, response.text)
    assert (await refresh("x" * 513)).status_code == 422


# --------------------------------------------------------------------------- JSON text


async def test_nul_characters_in_json_text_are_rejected_not_500(
    client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    chat = await client.post(f"{API}/chats", headers=auth_headers, json={"title": "ok"})
    chat_id = chat.json()["id"]
    for method, path, body in [
        ("POST", f"{API}/chats", {"title": "evil\x00title"}),
        ("PATCH", f"{API}/chats/{chat_id}", {"title": "\x00"}),
        ("POST", f"{API}/chats/{chat_id}/messages", {"content": "hello\x00world"}),
    ]:
        response = await client.request(method, path, headers=auth_headers, json=body)
        assert response.status_code == 422, (method, path, response.text)
        assert "NUL" in response.json()["error"]["message"]
    # A search query is only read, never stored: a NUL is treated as a space.
    for query in ("river\x00bank", "\x00"):
        response = await client.post(f"{API}/search", headers=auth_headers, json={"query": query})
        assert response.status_code == 200, response.text
    detail = (await client.get(f"{API}/chats/{chat_id}", headers=auth_headers)).json()
    assert detail["title"] == "ok"
    assert detail["messages"] == []


async def test_nul_in_full_name_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post(
        f"{API}/auth/register",
        json={
            "email": "nul@example.com",
            "password": "correct-horse-battery",
            "full_name": "a\x00",
        },
    )
    assert response.status_code == 422


# --------------------------------------------------------------------------- uploads


@pytest.fixture(scope="module")
def hostile_database_url(pg_admin_url: str, template_url: str) -> Iterator[str]:
    yield from module_database(pg_admin_url, "hostile")


@pytest.fixture(scope="module")
def server(hostile_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    settings = make_settings(
        hostile_database_url,
        tmp_path_factory.mktemp("hostile"),
        max_upload_mb=MAX_UPLOAD_MB,
        rate_limit_enabled=False,  # one client IP registers many users here
    )
    with LiveServer(create_app(settings)) as live:
        yield live


@pytest.fixture
async def http(server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
async def bystander(server: LiveServer) -> dict[str, Any]:
    """Another user with a ready document, uploaded before any hostile input."""
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as client:
        headers = await register(client)
        doc = (await upload(client, headers, pdf("crazyones.pdf"))).json()[0]
        assert (await wait_until_settled(client, headers, doc["id"]))["status"] == "ready"
        return {"headers": headers, "id": doc["id"], "chunks": doc["chunk_count"]}


async def _bystander_unaffected(client: httpx.AsyncClient, bystander: dict[str, Any]) -> None:
    headers = bystander["headers"]
    listed = (await client.get(f"{API}/documents", headers=headers)).json()
    assert [(d["id"], d["status"]) for d in listed] == [(bystander["id"], "ready")]
    hits = (
        await client.post(f"{API}/search", headers=headers, json={"query": "the crazy ones"})
    ).json()["results"]
    assert hits and {h["document_id"] for h in hits} == {bystander["id"]}


async def _good_document_still_ingests(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    marker = uuid.uuid4().hex[:8]
    good = (
        f"# Canal report {marker}\n\nThe Kallisto canal locks open at dawn for barges.\n"
    ).encode()
    doc = (await upload(client, headers, (f"good-{marker}.md", good, "text/markdown"))).json()[0]
    settled = await wait_until_settled(client, headers, doc["id"])
    assert settled["status"] == "ready", settled


async def test_every_bad_corpus_file_fails_with_a_reason(
    http: httpx.AsyncClient, bystander: dict[str, Any]
) -> None:
    bad_files = sorted(CORPUS.glob("bad-*"))
    assert bad_files, "the shared corpus has no bad-* files"
    headers = await register(http)
    response = await upload(
        http,
        headers,
        *[(path.name, path.read_bytes(), "application/pdf") for path in bad_files],
    )
    assert response.status_code == 202, response.text
    for doc in response.json():
        settled = await wait_until_settled(http, headers, doc["id"])
        assert settled["status"] == "failed", settled
        error = settled["error"]
        assert error and error.endswith(".") and "Something went wrong" not in error, error
        assert settled["chunk_count"] == 0
    await _good_document_still_ingests(http, headers)
    await _bystander_unaffected(http, bystander)


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _real_docx(body_xml: bytes | None = None, extra: dict[str, bytes] | None = None) -> bytes:
    """A Word document made by python-docx, optionally with its body XML replaced."""
    import docx

    document = docx.Document()
    document.add_paragraph("An ordinary paragraph about canal barges.")
    buffer = io.BytesIO()
    document.save(buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    entries = {name: source.read(name) for name in source.namelist()}
    if body_xml is not None:
        entries["word/document.xml"] = body_xml
    entries.update(extra or {})
    return _zip(entries)


W_NS = b'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
BILLION_LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [\n<!ENTITY lol "lollollollollollollollollol">\n'
    + b"".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'.encode()
        for i in range(1, 10)
    )
    + b"]>\n<w:document "
    + W_NS
    + b"><w:body><w:p><w:r><w:t>&lol9;</w:t></w:r></w:p></w:body></w:document>"
)
EXTERNAL_ENTITY = (
    b'<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
    b"<w:document " + W_NS + b"><w:body><w:p><w:r><w:t>&xxe;</w:t></w:r></w:p></w:body>"
    b"</w:document>"
)


async def test_archive_and_xml_bombs_are_contained(
    http: httpx.AsyncClient, bystander: dict[str, Any], hostile_database_url: str
) -> None:
    headers = await register(http)
    many_entries = _real_docx(extra={f"junk/{i}.xml": b"" for i in range(10_001)})
    bombs = {
        "entries.docx": many_entries,
        "laughs.docx": _real_docx(BILLION_LAUGHS),
        "xxe.docx": _real_docx(EXTERNAL_ENTITY),
        "damaged.docx": b"PK\x03\x04" + b"\x00\xff" * 2000,
        "deep.html": b"<html><body>" + b"<div>" * 50_000 + b"deep text" + b"</div>" * 50_000,
        "laughs.html": b"<!DOCTYPE html [" + BILLION_LAUGHS.split(b"[", 1)[1],
    }
    assert all(len(data) < MAX_UPLOAD_MB * 1024 * 1024 for data in bombs.values())
    started = time.monotonic()
    docs = []
    for name, data in bombs.items():
        response = await upload(http, headers, (name, data, "application/octet-stream"))
        assert response.status_code == 202, (name, response.text)
        docs.append(response.json()[0])
    for doc in docs:
        settled = await wait_until_settled(http, headers, doc["id"])
        name = doc["filename"]
        if name in ("entries.docx", "damaged.docx"):
            assert settled["status"] == "failed", settled
            assert ("zip bomb" if name == "entries.docx" else "damaged") in settled["error"]
        elif settled["status"] == "failed":
            assert "Something went wrong" not in settled["error"], settled
        else:  # parsed without expanding anything
            assert settled["chunk_count"] <= 3, settled
    assert time.monotonic() - started < 90
    # No entity was expanded and no local file was read into the index.
    with psycopg.connect(hostile_database_url) as conn:
        leaked = conn.execute(
            "SELECT count(*) FROM chunks WHERE text LIKE '%lollollol%' OR text LIKE '%root:%'"
        ).fetchone()
    assert leaked == (0,)
    await _good_document_still_ingests(http, headers)
    await _bystander_unaffected(http, bystander)


ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 200
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
PE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200
GZIP = b"\x1f\x8b\x08\x00" + b"\x00" * 200
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
HTML_PAYLOAD = (
    b"<!doctype html><html><body><h1>Invoice</h1><p>Pay the canal toll.</p>"
    b"<script>fetch('/api/v1/auth/me')</script></body></html>"
)


async def test_spoofed_content_types(http: httpx.AsyncClient, bystander: dict[str, Any]) -> None:
    headers = await register(http)
    rejected = [
        ("invoice.pdf", ELF, "application/pdf"),
        ("photo.docx", PNG, "application/vnd.openxmlformats-officedocument.wordprocessingml"),
        ("readme.txt", PE, "text/plain"),
        ("page.html", GZIP, "text/html"),
        ("sheet.docx", _zip({"content.xml": b"<office:document/>"}), "application/msword"),
        ("diagram.md", SVG, "text/markdown"),
        ("blob.txt", bytes(range(256)) * 4, "text/plain"),
    ]
    for name, data, claimed in rejected:
        response = await upload(http, headers, (name, data, claimed))
        assert response.status_code == 415, (name, response.status_code, response.text)
        assert response.json()["error"]["code"] == "unsupported_media_type"
        assert name in response.json()["error"]["message"]
    # One bad file rejects the whole request: nothing of it is stored.
    mixed = await upload(
        http, headers, ("fine.txt", b"A fine text file.", "text/plain"), rejected[0]
    )
    assert mixed.status_code == 415
    assert (await http.get(f"{API}/documents", headers=headers)).json() == []

    # The content decides the type, never the claimed one or the extension.
    crazy = (CORPUS / "crazyones.pdf").read_bytes()
    accepted = await upload(
        http,
        headers,
        ("notes.txt", crazy, "text/plain"),
        ("invoice.pdf", HTML_PAYLOAD, "application/pdf"),
    )
    assert accepted.status_code == 202
    pdf_doc, html_doc = accepted.json()
    assert pdf_doc["content_type"] == "application/pdf"
    assert html_doc["content_type"] == "text/html"
    original = await http.get(f"{API}/documents/{html_doc['id']}/file", headers=headers)
    assert original.headers["content-type"].startswith("text/html")
    # Served from our origin, the uploaded HTML must not be able to run its script.
    assert "sandbox" in original.headers["content-security-policy"]
    assert original.headers.get("x-content-type-options") == "nosniff"
    for doc in (pdf_doc, html_doc):
        assert (await wait_until_settled(http, headers, doc["id"]))["status"] == "ready"
    await _bystander_unaffected(http, bystander)


def _multipart(filename: bytes, data: bytes, boundary: bytes = b"hostileboundary") -> bytes:
    return (
        b"--" + boundary + b"\r\n"
        b'Content-Disposition: form-data; name="files"; filename="' + filename + b'"\r\n'
        b"Content-Type: text/plain\r\n\r\n" + data + b"\r\n--" + boundary + b"--\r\n"
    )


MULTIPART = {"content-type": "multipart/form-data; boundary=hostileboundary"}
HOSTILE_NAMES = [
    "../../etc/passwd",
    "..\\..\\windows\\system32\\drivers\\etc\\hosts.txt",
    "/var/lib/postgresql/data/pg_hba.conf",
    "\u202egnp.exe.txt",  # right-to-left override: shows as "txt.exe.png"
    "zero\u200bwidth\ufeff.txt",
    "....",
    "",
    " ",
    "tab\tand\x1bescape\x7f.txt",
    "quote\"semi;colon'.txt",
    "résumé 📄 ok.txt",
    "x" * 5000 + ".txt",
]


async def test_hostile_filenames_are_neutralised(http: httpx.AsyncClient) -> None:
    headers = await register(http)
    for index, name in enumerate(HOSTILE_NAMES):
        body = f"File number {index} about canal barges.".encode()
        response = await http.post(
            f"{API}/documents",
            headers={**headers, **MULTIPART},
            content=_multipart(name.encode("utf-8", "surrogateescape"), body),
        )
        assert response.status_code in (202, 400, 422), (name, response.status_code, response.text)
        if response.status_code != 202:
            continue
        stored = response.json()[0]["filename"]
        assert stored, name
        assert len(stored) <= 200
        assert not stored.startswith("."), stored
        assert all(ch not in stored for ch in "/\\\r\n\t\x00\x1b\x7f\u202e\u200b\ufeff"), stored
        assert ".." not in stored, stored
        served = await http.get(f"{API}/documents/{response.json()[0]['id']}/file", headers=headers)
        assert served.status_code == 200
        assert served.content == body
        disposition = served.headers["content-disposition"]
        assert disposition.startswith("inline; filename")
        assert "\r" not in disposition and "\n" not in disposition
        assert "x-injected" not in served.headers

    # Header injection through the filename, encoded the way client libraries send it.
    injected = await upload(
        http, headers, ("report\r\nX-Injected: 1\r\n.txt", b"injection attempt", "text/plain")
    )
    assert injected.status_code == 202, injected.text
    assert "\r" not in injected.json()[0]["filename"]
    assert "\n" not in injected.json()[0]["filename"]
    served = await http.get(f"{API}/documents/{injected.json()[0]['id']}/file", headers=headers)
    assert "x-injected" not in served.headers
    assert "\n" not in served.headers["content-disposition"]


def _send_while_listening(port: int, head: bytes, pieces: Iterator[bytes]) -> tuple[bytes, int]:
    """Send a request body piece by piece, as a browser does, but stop as soon as the server
    answers; return (the raw response, bytes of body sent)."""
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 65536)
        sock.sendall(head)
        for piece in pieces:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                break
            try:
                sock.sendall(piece)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(piece)
        response = b""
        with contextlib.suppress(ConnectionResetError, TimeoutError):
            while chunk := sock.recv(65536):
                response += chunk
                if b"\r\n\r\n" in response and response.rstrip().endswith(b"}"):
                    break
    return response, sent


async def test_oversize_bodies_are_413_with_or_without_content_length(
    http: httpx.AsyncClient, server: LiveServer
) -> None:
    headers = await register(http)
    limit = MAX_UPLOAD_MB * 1024 * 1024
    body_head, body_tail = _multipart(b"big.txt", b"\x00").split(b"\x00")
    # Far more than loopback can buffer: the server's receive buffer grows to tcp_rmem's
    # maximum (32 MB here) while a loaded server is slow to read, which once swallowed all of
    # an 8 MB body before the 413 was written.
    total = limit * 32
    auth = headers["Authorization"].encode()

    def request_head(framing: bytes) -> bytes:
        return (
            b"POST /api/v1/documents HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Authorization: " + auth + b"\r\n"
            b"Content-Type: multipart/form-data; boundary=hostileboundary\r\n" + framing + b"\r\n"
        )

    def plain_pieces() -> Iterator[bytes]:
        yield body_head
        for _ in range(total // 65536):
            yield b"a" * 65536
        yield body_tail

    def chunked_pieces() -> Iterator[bytes]:
        for piece in plain_pieces():
            yield f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
        yield b"0\r\n\r\n"

    length = len(body_head) + (total // 65536) * 65536 + len(body_tail)
    for name, head, pieces in (
        ("Content-Length", request_head(f"Content-Length: {length}\r\n".encode()), plain_pieces()),
        ("chunked", request_head(b"Transfer-Encoding: chunked\r\n"), chunked_pieces()),
    ):
        raw, sent = await asyncio.to_thread(_send_while_listening, server.port, head, pieces)
        status_line, _, rest = raw.partition(b"\r\n")
        assert status_line.startswith(b"HTTP/1.1 413"), (name, raw[:300])
        body = json.loads(rest.partition(b"\r\n\r\n")[2].decode())
        assert body["error"]["code"] == "payload_too_large", name
        # Refused while streaming: the server never took in the whole body.
        assert sent < total, (name, sent)

    # Too many files, no files, and a form without the field.
    many = await upload(
        http, headers, *[(f"f{i}.txt", f"file {i}".encode(), "text/plain") for i in range(21)]
    )
    assert many.status_code == 422
    empty_form = await http.post(
        f"{API}/documents", headers={**headers, **MULTIPART}, content=b"--hostileboundary--\r\n"
    )
    assert empty_form.status_code == 422
    wrong_field = await http.post(f"{API}/documents", headers=headers, data={"files": "not a file"})
    assert wrong_field.status_code == 422
    # Nothing was stored and the server still answers.
    assert (await http.get(f"{API}/documents", headers=headers)).json() == []


SCRIPT_WORDS = (
    "scriptsecretword",
    "modulesecretword",
    "stylesecretword",
    "attrsecretword",
    "noscriptsecretword",
    "commentsecretword",
    "templatesecretword",
    "iframesecretword",
    "mdscriptsecretword",
    "mdblocksecretword",
)
HTML_WITH_SCRIPTS = b"""<!doctype html>
<html><head><title>Lantern festival</title>
<script>var x = "scriptsecretword";</script>
<style>.x { content: "stylesecretword" }</style></head>
<body onload="alert('attrsecretword')">
<h1>Lantern festival</h1>
<p>Paper lanterns float down the Kallisto canal at midnight.</p>
<noscript>noscriptsecretword</noscript>
<!-- commentsecretword -->
<template><p>templatesecretword</p></template>
<iframe srcdoc="iframesecretword">iframesecretword</iframe>
<script type="module">import "modulesecretword";</script>
<p>The festival ends with a drum parade.</p>
</body></html>
"""
MARKDOWN_WITH_SCRIPTS = b"""# Market day

Fishmongers sell smoked eel <script>mdscriptsecretword()</script> by the canal bridge.

<script>
mdblocksecretword();
</script>

Bakers close their stalls at noon.
"""


async def test_script_text_is_never_indexed(
    http: httpx.AsyncClient, hostile_database_url: str
) -> None:
    headers = await register(http)
    response = await upload(
        http,
        headers,
        ("festival.html", HTML_WITH_SCRIPTS, "text/html"),
        ("market.md", MARKDOWN_WITH_SCRIPTS, "text/markdown"),
    )
    assert response.status_code == 202
    for doc in response.json():
        assert (await wait_until_settled(http, headers, doc["id"]))["status"] == "ready"
    # The visible text is searchable...
    for query, expected in (("paper lanterns canal", "lanterns"), ("smoked eel", "smoked eel")):
        hits = (await http.post(f"{API}/search", headers=headers, json={"query": query})).json()[
            "results"
        ]
        assert hits and expected in hits[0]["text"].lower()
    # ...and the script, style, comment and attribute text is nowhere.
    for word in SCRIPT_WORDS:
        hits = (await http.post(f"{API}/search", headers=headers, json={"query": word})).json()[
            "results"
        ]
        for hit in hits:
            assert word not in json.dumps(hit).lower(), (word, hit)
    with psycopg.connect(hostile_database_url) as conn:
        for word in SCRIPT_WORDS:
            chunks = conn.execute(
                "SELECT count(*) FROM chunks WHERE lower(text) LIKE %s OR "
                "lower(heading_path::text) LIKE %s",
                (f"%{word}%", f"%{word}%"),
            ).fetchone()
            postings = conn.execute(
                "SELECT count(*) FROM chunk_terms WHERE lexeme LIKE %s", (f"{word[:12]}%",)
            ).fetchone()
            assert chunks == (0,) and postings == (0,), word
    # The chat answer cannot quote it either.
    chat_id = (await http.post(f"{API}/chats", headers=headers, json={})).json()["id"]
    question = "What happens at the lantern festival? scriptsecretword"
    answer = await http.post(
        f"{API}/chats/{chat_id}/messages", headers=headers, json={"content": question}
    )
    # The stream names what was searched: the question itself, not the document's script.
    stream = answer.text.replace(f'"search_query":{json.dumps(question)}', "").lower()
    assert "lantern" in stream
    assert all(word not in stream for word in SCRIPT_WORDS)


async def test_ordinary_client_sending_a_whole_oversize_file_sees_the_413(
    http: httpx.AsyncClient,
) -> None:
    """Browsers read the answer only after sending everything: the server must discard a
    modestly oversize body rather than reset the connection."""
    headers = await register(http)
    too_big = b"a" * (MAX_UPLOAD_MB * 1024 * 1024 + 1024)
    response = await upload(http, headers, ("big.txt", too_big, "text/plain"))
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
