"""Providers chosen by configuration, created once per process."""

from __future__ import annotations

import threading
from functools import lru_cache

from app.ai.embedding_process import ProcessEmbedder
from app.ai.embeddings import Embedder, LocalEmbedder, embedder_from_config
from app.ai.llm import LLM, OpenAIChatLLM
from app.core.settings import Settings

_lock = threading.Lock()


@lru_cache(maxsize=4)
def _embedder(
    provider: str, model: str | None, base_url: str | None, api_key: str | None, batch_size: int
) -> Embedder:
    embedder = embedder_from_config(
        provider, model=model, base_url=base_url, api_key=api_key, batch_size=batch_size
    )
    # A local model runs in its own process (see app.ai.embedding_process).
    if isinstance(embedder, LocalEmbedder):
        return ProcessEmbedder(model)
    return embedder


def get_embedder(settings: Settings) -> Embedder:
    with _lock:
        return _embedder(
            settings.embedding_provider,
            settings.embedding_model,
            settings.openai_base_url,
            settings.openai_api_key,
            settings.embedding_batch_size,
        )


def llm_enabled(settings: Settings) -> bool:
    if settings.llm_provider == "extractive":
        return False
    if settings.llm_provider == "openai":
        return True
    return bool(settings.openai_api_key or settings.openai_base_url)


@lru_cache(maxsize=4)
def _llm(base_url: str | None, api_key: str, model: str, timeout_s: float) -> LLM:
    # One client (and its connection pool) per configuration for the life of the process.
    return OpenAIChatLLM(base_url=base_url, api_key=api_key, model=model, timeout_s=timeout_s)


def get_llm(settings: Settings, model_id: str | None = None) -> LLM | None:
    """The chat model: the LLM_MODELS entry ``model_id`` (a chat's choice), else the
    configured default, or None for the extractive answerer (no key needed)."""
    chosen = settings.llm_model_config(model_id)
    if chosen is not None:
        return _llm(
            chosen.base_url, chosen.api_key() or "not-needed", chosen.model, settings.llm_timeout_s
        )
    if not llm_enabled(settings):
        return None
    return _llm(
        settings.openai_base_url,
        settings.openai_api_key or "not-needed",
        settings.llm_model,
        settings.llm_timeout_s,
    )
