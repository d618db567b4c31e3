"""Retrieval tuning, from SEARCH_* environment variables (defaults tuned on SciFact train)."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict

from app.search.retrieval import RetrievalParams


class SearchSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SEARCH_", env_file=".env", extra="ignore")

    candidates: int = 100
    # Tuned on BEIR SciFact train (docs/benchmarks.md): linear fusion of cosine and
    # query-normalised BM25 over both retrievers' candidates, BM25 k1 0.9 / b 0.4.
    fusion: Literal["linear", "convex", "rrf"] = "linear"
    rrf_k: int = 60
    lexical_weight: float = 0.5
    bm25_k1: float = 0.9
    bm25_b: float = 0.4
    ef_search: int = 100
    ef_search_per_share: float = 100.0
    max_ef_search: int = 1000
    min_similarity: float = 0.25
    min_keyword_coverage: float = 0.5
    exact_scan_max_chunks: int = 20_000
    exact_scan_max_share: float = 0.2
    lexical_exact_max_postings: int = 20_000
    lexical_pruned_share: float = 0.25
    lexical_pool: int = 300

    def params(self) -> RetrievalParams:
        return RetrievalParams(**self.model_dump())


@lru_cache
def get_retrieval_params() -> RetrievalParams:
    return SearchSettings().params()
