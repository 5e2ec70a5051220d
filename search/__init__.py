"""Keyword, semantic and hybrid search over an index directory."""
