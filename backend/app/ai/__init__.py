"""AI providers: embeddings, chat LLMs, extractive answers and citation checking.

Heavy dependencies (torch, sentence-transformers) are imported lazily, only when a
:class:`~app.ai.embeddings.LocalEmbedder` first needs its model.
"""

from app.ai.citations import CitationFilter, strip_invalid_markers
from app.ai.embeddings import (
    DEFAULT_LOCAL_MODEL_ID,
    Embedder,
    EmbeddingError,
    LocalEmbedder,
    OpenAIEmbedder,
    embedder_from_config,
)
from app.ai.extractive import ExtractiveAnswer, Passage, extractive_answer
from app.ai.llm import LLM, ChatMessage, LLMError, OpenAIChatLLM

__all__ = [
    "DEFAULT_LOCAL_MODEL_ID",
    "LLM",
    "ChatMessage",
    "CitationFilter",
    "Embedder",
    "EmbeddingError",
    "ExtractiveAnswer",
    "LLMError",
    "LocalEmbedder",
    "OpenAIChatLLM",
    "OpenAIEmbedder",
    "Passage",
    "embedder_from_config",
    "extractive_answer",
    "strip_invalid_markers",
]
