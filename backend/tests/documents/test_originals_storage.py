"""Originals in an S3-compatible bucket and in Postgres, against a local server that speaks the
real S3 protocol (moto's server mode, in its own process): upload, streamed download,
ingestion, deletion, multipart uploads, and `docchat originals migrate` both ways."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import psycopg
import pytest
from fastapi import FastAPI

from app.core.db import create_engine, create_sessionmaker
from app.core.settings import Settings
from app.documents.storage import PIECE_BYTES, POSTGRES, S3, open_originals
from app.documents.storage_s3 import PART_BYTES
from app.main import create_app
from tests.conftest import free_port, make_settings, pdf, register, upload, wait_until_settled

BACKEND = Path(__file__).resolve().parents[2]
ACCESS_KEY = "docchat-test-access"
SECRET_KEY = "docchat-test-secret-key-0123456789"


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """moto's S3 server on a loopback port, in a separate process."""
    port = free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    moto_server = Path(sys.executable).parent / "moto_server"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(moto_server), "-H", "127.0.0.1", "-p", str(port)], stdout=out, stderr=out
        )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(endpoint, timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "moto_server did not start"
                time.sleep(0.1)
        yield endpoint
    finally:
        process.terminate()
        process.wait(timeout=10)


def _s3(endpoint: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
    )


@pytest.fixture
def bucket(s3_endpoint: str) -> str:
    name = f"docchat-{uuid.uuid4().hex[:12]}"
    _s3(s3_endpoint).create_bucket(Bucket=name)
    return name


def s3_settings(database_url: str, tmp: Path, endpoint: str, bucket: str, **extra: Any) -> Settings:
    return make_settings(
        database_url,
        tmp,
        **{"run_worker": False, **extra},
        originals_storage="s3",
        s3_bucket=bucket,
        s3_endpoint_url=endpoint,
        s3_region="us-east-1",
        s3_access_key_id=ACCESS_KEY,
        s3_secret_access_key=SECRET_KEY,
        s3_force_path_style=True,
    )


@pytest.fixture
async def s3_app(
    database_url: str, tmp_path: Path, s3_endpoint: str, bucket: str
) -> AsyncIterator[FastAPI]:
    application = create_app(
        s3_settings(database_url, tmp_path, s3_endpoint, bucket, run_worker=True)
    )
    async with application.router.lifespan_context(application):
        yield application


def _objects(endpoint: str, bucket: str) -> dict[str, int]:
    listed = _s3(endpoint).list_objects_v2(Bucket=bucket)
    return {item["Key"]: item["Size"] for item in listed.get("Contents", [])}


def _rows(database_url: str, query: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(database_url) as conn:
        return list(conn.execute(query.encode()).fetchall())


async def test_upload_ingest_download_delete_through_s3(
    s3_app: FastAPI, database_url: str, s3_endpoint: str, bucket: str
) -> None:
    name, data, content_type = pdf("example.pdf")
    transport = httpx.ASGITransport(app=s3_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        headers = await register(client)
        response = await upload(client, headers, (name, data, content_type))
        assert response.status_code == 202, response.text
        document_id = response.json()[0]["id"]

        assert _objects(s3_endpoint, bucket) == {f"originals/{document_id}": len(data)}
        assert _rows(database_url, "SELECT count(*) FROM document_files") == [(0,)]
        assert _rows(database_url, "SELECT original_storage FROM documents") == [("s3",)]

        settled = await wait_until_settled(client, headers, document_id)
        assert settled["status"] == "ready", settled  # the worker read it from the bucket
        assert settled["chunk_count"] > 0

        download = await client.get(f"/api/v1/documents/{document_id}/file", headers=headers)
        assert download.status_code == 200
        assert download.content == data
        assert download.headers["content-length"] == str(len(data))

        deleted = await client.delete(f"/api/v1/documents/{document_id}", headers=headers)
        assert deleted.status_code == 204
    assert _objects(s3_endpoint, bucket) == {}


async def test_large_original_goes_up_in_parts_and_comes_back_in_pieces(
    database_url: str, tmp_path: Path, s3_endpoint: str, bucket: str
) -> None:
    settings = s3_settings(database_url, tmp_path, s3_endpoint, bucket)
    data = os.urandom(2 * PART_BYTES + 12345)  # three parts: two full, one short
    document_id = uuid.uuid4()
    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    sessionmaker = create_sessionmaker(engine)
    try:
        async with open_originals(settings, sessionmaker) as originals, sessionmaker() as session:
            await originals.store(S3).write(session, document_id=document_id, data=data)
            head = _s3(s3_endpoint).head_object(Bucket=bucket, Key=f"originals/{document_id}")
            assert head["ContentLength"] == len(data)
            assert head["ETag"].strip('"').endswith("-3"), head["ETag"]  # a multipart upload
            pieces = [
                piece async for piece in originals.store(S3).read_pieces(document_id=document_id)
            ]
    finally:
        await engine.dispose()
    assert max(len(piece) for piece in pieces) <= PIECE_BYTES
    assert len(pieces) >= len(data) // PIECE_BYTES
    assert b"".join(pieces) == data


async def test_postgres_original_is_read_in_pieces(database_url: str, tmp_path: Path) -> None:
    settings = make_settings(database_url, tmp_path)
    data = os.urandom(3 * PIECE_BYTES + 7)
    document_id = uuid.uuid4()
    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    sessionmaker = create_sessionmaker(engine)
    try:
        async with open_originals(settings, sessionmaker) as originals:
            with psycopg.connect(database_url, autocommit=True) as conn:
                conn.execute("SET session_replication_role = replica")  # no document row needed
                conn.execute(
                    "INSERT INTO document_files (document_id, data) VALUES (%s, %s)",
                    (document_id, data),
                )
            store = originals.store(POSTGRES)
            pieces = [piece async for piece in store.read_pieces(document_id=document_id)]
    finally:
        await engine.dispose()
    assert [len(piece) for piece in pieces] == [PIECE_BYTES] * 3 + [7]
    assert b"".join(pieces) == data


def _cli(
    database_url: str, settings_env: dict[str, str], *args: str
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "HF_HUB_OFFLINE")}
    env.update(ENVIRONMENT="development", DATABASE_URL=database_url, PYTHONPATH=str(BACKEND))
    env.update(settings_env)
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


async def test_originals_migrate_moves_existing_originals_both_ways(
    client: httpx.AsyncClient, database_url: str, s3_endpoint: str, bucket: str
) -> None:
    headers = await register(client)
    files = [
        (f"note-{i}.txt", f"note number {i} ".encode() * (i + 1), "text/plain") for i in range(3)
    ]
    ids = []
    for file in files:
        response = await upload(client, headers, file)
        assert response.status_code == 202, response.text
        ids.append(response.json()[0]["id"])
    assert _rows(database_url, "SELECT count(*) FROM document_files") == [(3,)]

    s3_env = {
        "S3_BUCKET": bucket,
        "S3_ENDPOINT_URL": s3_endpoint,
        "S3_REGION": "us-east-1",
        "S3_ACCESS_KEY_ID": ACCESS_KEY,
        "S3_SECRET_ACCESS_KEY": SECRET_KEY,
        "S3_FORCE_PATH_STYLE": "true",
    }
    to_s3 = _cli(
        database_url, {**s3_env, "ORIGINALS_STORAGE": "s3"}, "originals", "migrate", "--to", "s3"
    )
    assert to_s3.returncode == 0, to_s3.stderr
    assert "moved 3 originals" in to_s3.stdout
    assert _rows(database_url, "SELECT count(*) FROM document_files") == [(0,)]
    objects = _objects(s3_endpoint, bucket)
    assert sorted(objects) == sorted(f"originals/{i}" for i in ids)
    again = _cli(database_url, s3_env, "originals", "migrate", "--to", "s3")
    assert "moved 0 originals" in again.stdout  # resumable: nothing left to do

    back = _cli(database_url, s3_env, "originals", "migrate", "--to", "postgres")
    assert back.returncode == 0, back.stderr
    assert "moved 3 originals" in back.stdout
    assert _objects(s3_endpoint, bucket) == {}
    # This app has no S3 configured: every original must be readable from Postgres again.
    for document_id, (_, data, _) in zip(ids, files, strict=True):
        download = await client.get(f"/api/v1/documents/{document_id}/file", headers=headers)
        assert download.status_code == 200
        assert download.content == data


async def test_an_s3_original_without_s3_configured_is_a_clear_503(
    client: httpx.AsyncClient, database_url: str
) -> None:
    headers = await register(client)
    response = await upload(client, headers, ("a.txt", b"kept elsewhere", "text/plain"))
    document_id = response.json()[0]["id"]
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("UPDATE documents SET original_storage = 's3'")
    download = await client.get(f"/api/v1/documents/{document_id}/file", headers=headers)
    assert download.status_code == 503
    assert "object storage" in download.json()["error"]["message"]
