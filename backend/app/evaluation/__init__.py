"""Offline evaluation of retrieval quality (BEIR datasets) through the real app code paths."""
