"""Embedding providers: the packaged local model (offline) and the OpenAI-compatible client
against the fake server over real HTTP."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np
import pytest

from app.ai.embeddings import (
    DEFAULT_LOCAL_MODEL_ID,
    Embedder,
    EmbeddingError,
    LocalEmbedder,
    OpenAIEmbedder,
    embedder_from_config,
)
from app.ai.http_retry import parse_retry_after
from tests.fakes import FakeOpenAI, fake_embedding, hang, http_error, stream_cut_after

KEY = "sk-embed-test"


# --------------------------------------------------------------------------- local model


@pytest.fixture(scope="module")
def local() -> LocalEmbedder:
    embedder = LocalEmbedder()
    assert embedder.dimensions == 384  # loads the model once for the module
    return embedder


def test_local_loads_packaged_model_offline(local: LocalEmbedder) -> None:
    as_protocol: Embedder = local  # statically checked
    assert as_protocol is local
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert local.model_id == DEFAULT_LOCAL_MODEL_ID
    assert local.max_tokens == 256
    tok = local.tokenizer()
    assert tok is not None
    assert len(tok("hello world")["input_ids"]) == 4  # [CLS] hello world [SEP]
    # Same process-wide model object for every instance.
    assert LocalEmbedder(DEFAULT_LOCAL_MODEL_ID)._model() is local._model()


def test_local_vectors_are_normalised_and_semantic(local: LocalEmbedder) -> None:
    texts = [
        "The cat is sleeping on the sofa.",
        "A kitten naps on the couch.",
        "Quarterly revenue grew by eight percent.",
    ]
    vecs = local.embed_documents(texts)
    assert vecs.shape == (3, 384)
    assert vecs.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    q = local.embed_query("Where is the cat sleeping?")
    assert q.shape == (384,)
    assert float(vecs[0] @ vecs[1]) > float(vecs[0] @ vecs[2]) + 0.3
    assert float(q @ vecs[0]) > float(q @ vecs[2])


def test_local_length_sorting_keeps_input_order(local: LocalEmbedder) -> None:
    texts = [("word " * n).strip() + f" item {n}" for n in (12, 1, 5, 3, 20)]
    small_batches = LocalEmbedder(batch_size=2)
    batched = small_batches.embed_documents(texts)
    singles = np.stack([local.embed_query(t) for t in texts])
    np.testing.assert_allclose(batched, singles, atol=1e-5)
    assert local.embed_documents([]).shape == (0, 384)


# --------------------------------------------------------------------------- factory


def test_embedder_from_config() -> None:
    assert isinstance(
        embedder_from_config("local", model=None, base_url=None, api_key=None), LocalEmbedder
    )
    remote = embedder_from_config(
        "OpenAI", model="nomic-embed-text", base_url="http://127.0.0.1:9/v1", api_key=None
    )
    assert isinstance(remote, OpenAIEmbedder)
    assert remote.model_id == "nomic-embed-text"
    assert remote.tokenizer() is None
    with pytest.raises(ValueError, match="EMBEDDING_PROVIDER"):
        embedder_from_config("cohere", model=None, base_url=None, api_key=None)
    with pytest.raises(ValueError, match="EMBEDDING_PROVIDER=openai"):
        embedder_from_config("openai", model=None, base_url=None, api_key="k")


def test_parse_retry_after() -> None:
    assert parse_retry_after({"retry-after": "2"}) == 2.0
    assert parse_retry_after({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert parse_retry_after({"retry-after": "soon"}) is None
    date = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 30))
    value = parse_retry_after({"retry-after": date})
    assert value is not None
    assert 25 < value <= 30
    assert parse_retry_after({}) is None


# --------------------------------------------------------------------------- OpenAI-compatible


@pytest.fixture(scope="module")
def server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(api_key=KEY, embedding_dim=64) as s:
        yield s


@pytest.fixture(autouse=True)
def _fresh(request: pytest.FixtureRequest) -> None:
    if "server" in request.fixturenames:
        request.getfixturevalue("server").reset()


def _remote(server: FakeOpenAI, **kwargs: object) -> OpenAIEmbedder:
    options: dict[str, object] = {
        "base_url": server.base_url,
        "api_key": KEY,
        "model": "text-embedding-fake",
        "batch_size": 3,
        "max_retries": 2,
        "timeout_s": 5,
        "backoff_base_s": 0.01,
        "backoff_max_s": 0.05,
    }
    options.update(kwargs)
    return OpenAIEmbedder(**options)  # type: ignore[arg-type]


TEXTS = [
    "alpha beta gamma",
    "alpha beta delta",
    "completely unrelated words here",
    "one",
    "two words",
    "alpha",
    "seven",
]


def _expected(texts: list[str], dim: int = 64) -> np.ndarray:
    return np.asarray([fake_embedding(t, dim) for t in texts], dtype=np.float32)


def test_remote_batches_preserve_order_and_normalise(server: FakeOpenAI) -> None:
    emb = _remote(server)
    vecs = emb.embed_documents(TEXTS)
    assert vecs.shape == (7, 64)
    assert vecs.dtype == np.float32
    np.testing.assert_allclose(vecs, _expected(TEXTS), atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    assert emb.dimensions == 64  # learnt from the first response
    reqs = server.requests_to("embeddings")
    assert [r.body["input"] for r in reqs] == [TEXTS[0:3], TEXTS[3:6], TEXTS[6:7]]
    assert all(r.authorization == f"Bearer {KEY}" for r in reqs)
    assert all(r.body["model"] == "text-embedding-fake" for r in reqs)
    assert "dimensions" not in reqs[0].body
    # similar texts are similar in the fake space too
    assert float(vecs[0] @ vecs[1]) > float(vecs[0] @ vecs[2])


def test_remote_query_dimensions_and_empty_text(server: FakeOpenAI) -> None:
    emb = _remote(server, dimensions=32)
    assert emb.dimensions == 32  # configured: no probe request
    assert server.requests == []
    q = emb.embed_query("alpha beta")
    np.testing.assert_allclose(q, _expected(["alpha beta"], 32)[0], atol=1e-6)
    assert server.requests[0].body["dimensions"] == 32
    vecs = emb.embed_documents(["", "x"])
    assert vecs.shape == (2, 32)
    assert server.requests[-1].body["input"] == [" ", "x"]


def test_remote_dimension_probe(server: FakeOpenAI) -> None:
    emb = _remote(server)
    assert emb.dimensions == 64
    assert len(server.requests) == 1


def test_remote_retries_429_with_retry_after_and_5xx(server: FakeOpenAI) -> None:
    server.push(
        http_error(429, retry_after=0.5),
        http_error(502),
        stream_cut_after(0),
        endpoint="embeddings",
    )
    emb = _remote(server, max_retries=3)
    started = time.monotonic()
    vecs = emb.embed_documents(TEXTS[:2])
    assert time.monotonic() - started >= 0.5
    np.testing.assert_allclose(vecs, _expected(TEXTS[:2]), atol=1e-6)
    assert [r.scenario for r in server.requests] == ["http_error", "http_error", "stream_cut", "ok"]


def test_remote_gives_up_with_clear_message(server: FakeOpenAI) -> None:
    server.push(http_error(503, times=5), endpoint="embeddings")
    with pytest.raises(EmbeddingError) as info:
        _remote(server).embed_documents(TEXTS)
    assert info.value.message == (
        "The embedding service is unavailable (HTTP 503) after 3 attempts."
    )
    assert info.value.status_code == 503
    assert len(server.requests) == 3


def test_remote_client_errors_fail_at_once(server: FakeOpenAI) -> None:
    server.push(http_error(400, message="Input too long."), endpoint="embeddings")
    with pytest.raises(EmbeddingError) as info:
        _remote(server).embed_documents(TEXTS[:1])
    assert (
        info.value.message
        == "The embedding service refused the request (HTTP 400). It said: Input too long."
    )
    with pytest.raises(EmbeddingError, match=r"rejected the API key \(HTTP 401\)"):
        _remote(server, api_key="wrong").embed_documents(TEXTS[:1])
    assert len(server.requests) == 2


def test_remote_timeout(server: FakeOpenAI) -> None:
    server.push(hang(), hang(), endpoint="embeddings")
    with pytest.raises(EmbeddingError) as info:
        _remote(server, timeout_s=0.3, max_retries=1).embed_documents(TEXTS[:1])
    assert (
        info.value.message == "The embedding service did not answer within 0.3 s after 2 attempts."
    )


def test_remote_unreachable() -> None:
    with FakeOpenAI() as gone:
        url = gone.base_url
    emb = OpenAIEmbedder(base_url=url, api_key="k", model="m", max_retries=0)
    with pytest.raises(EmbeddingError) as info:
        emb.embed_documents(["x"])
    assert (
        info.value.message
        == f"The embedding service could not be reached at {url} after 1 attempt."
    )


def test_embedding_batch_size_is_the_texts_per_request() -> None:
    from app.ai.factory import get_embedder
    from app.core.settings import Settings

    settings = Settings(
        _env_file=None,
        embedding_provider="openai",
        embedding_model="text-embedding-3-small",
        openai_base_url="http://127.0.0.1:9/v1",
        embedding_batch_size=7,
    )
    embedder = get_embedder(settings)
    assert isinstance(embedder, OpenAIEmbedder)
    assert embedder.batch_size == 7
