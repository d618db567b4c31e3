"""AI providers: embeddings, chat LLMs, extractive answers and citation checking.

Heavy dependencies (torch, sentence-transformers) are imported lazily, only when a
:class:`~app.ai.embeddings.LocalEmbedder` first needs its model.
"""
