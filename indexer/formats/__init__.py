"""The index formats, one module each, written by the build and read by search: the keyword index
and its ranking arrays (keyword, bm25), the vectors (vectors), the formulations (formulations) and
the Milvus collections (milvus). The passage store (indexer/store.py), the near-duplicate pairs
(indexer/duplicates.py) and the index directory's layout (indexer/layout.py) sit beside them."""

BACKENDS = ("embedded", "milvus")  # where a build is searched: its own files, or Milvus as well
