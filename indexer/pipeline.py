"""Build an index directory from folders and files of reports.

read → clean → split into reports → passages with heading paths and metadata →
passage store → the backends' text indexes (indexer/writers.py) → formulations →
embeddings (cached) → the backends' vector indexes → publish.
One unreadable file is reported and skipped; the rest always indexes.
A little over ~350 lines because the build is one sequence, read in order.
"""
from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import numpy as np

from . import __version__, duplicates, encoders, headings, sections
from . import metadata as meta
from .cleaning import clean
from .embedding import EmbeddingCache, embed_with_cache, passage_input, sentence_pieces
from .encoders import DEFAULT_MODEL, SECOND_MODEL, SECOND_MODEL_INT8
from .layout import IndexDir, IndexUnavailable
from .readers import OFFICE_SUFFIXES, Source, Unreadable, discover, key_hash, office_conversions, office_reader, read
from .store import Document, PassageStore, StoredPassage, passage_id
from .structure import Passage, Report, passages, split_reports
from .text import normalise
from .writers import Vectors
from .writers import writers as backend_writers


@dataclass
class IndexReport:
    """What an indexing run did, for the user."""

    files: int = 0
    reports: int = 0
    passages: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    notes: list[tuple[str, str]] = field(default_factory=list)  # (file, what was dropped or unreadable)
    embedded: int = 0  # passages and sentences whose vectors were computed (not from the cache)
    up_to_date: bool = False  # nothing changed since the active build: nothing was done
    seconds: float = 0.0
    index_dir: str = ""


@dataclass(frozen=True)
class BuildOptions:
    model: str = DEFAULT_MODEL
    max_seq_length: int | None = None  # tokens of a passage the model reads; None: the model's default
    embed: bool = True
    ann_threshold: int | None = None
    force: bool = False  # rebuild even when no file and no option changed
    int8: bool = False  # embed with the model's linear layers quantised to 8 bits (faster)
    # Embed each passage's sentences too (bare text; a passage of one sentence gives one); semantic
    # search scores a passage by itself and its best sentence (search/semantic.py). About twice the
    # embedding time.
    sentences: bool = True
    # A second model's passage vectors: its list joins the first's on the semantic side
    # (SearchSettings.second_weight; measured in bench/README.md, "Settings"). None: one model.
    second_model: str | None = SECOND_MODEL
    # Where searches run: "embedded" (the build folder's own indexes) or "milvus" (indexer/formats/milvus.py:
    # also written to Milvus at milvus_uri, a Milvus Lite file or a server, under the alias milvus_alias).
    backend: str = "embedded"
    milvus_uri: str | None = None
    milvus_alias: str = "report_search"


def build_index(paths: list[str], index_dir: str | Path, options: BuildOptions = BuildOptions(),
                progress: Callable[[str, int, int], None] | None = None) -> IndexReport:
    """Index `paths` into `index_dir` and make it the active version."""
    started = time.time()
    directory = IndexDir(index_dir)
    report = IndexReport(index_dir=str(directory.path))
    with directory.lock():
        stamp = fingerprint(paths, options)
        if not options.force and _up_to_date(directory, stamp):
            report.up_to_date = True
            report.seconds = round(time.time() - started, 2)
            return report
        writers = backend_writers(options.backend, directory.path, options.ann_threshold, options.milvus_uri,
                                  options.milvus_alias)
        build_id, build = directory.new_build()
        store = PassageStore(build.passages)
        clock = _Stages()
        files = list(discover(paths))
        with office_conversions([path for path, _ in files]):  # .doc and the like, many a LibreOffice run
            for path, key in files:
                _index_file(path, key, store, report)
        store.commit()
        clock.done("reading")
        manifest = {
            "build": build_id,
            "package_version": __version__,
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "counts": store.counts(),
            "sources": [str(p) for p in paths],
            "fingerprint": stamp,
        }
        # Formulations and near duplicates take a core of their own while the text indexes are written
        # (gov-reports: 60 s of a 100 s keyword-only build); a small corpus does them in this process.
        aside = _beside(manifest["counts"]["passages"] >= PARALLEL_PASSAGES, _formulations, build.root, build.passages)
        try:
            for writer in writers:
                manifest.update(writer.write_text(build, build_id, store))
            clock.done("text indexes")
        finally:
            found = aside()
        clock.done("formulations, near duplicates (beyond the text indexes)")
        manifest.update(found)
        vectors = Vectors(store.passage_ids())
        if options.embed:
            described, vectors = _embed(store, directory, options, report, progress, clock)
            manifest.update(described)
            manifest.update(_score_formulations(build.root, directory))
            clock.done("formulations: which a writer reuses")
        for writer in writers:
            manifest.update(writer.write_vectors(build, build_id, store, vectors,
                                                 (lambda done, total: progress("milvus", done, total))
                                                 if progress else None))
        clock.done("vector indexes")
        store.close()
        report.seconds = round(time.time() - started, 2)
        manifest["build_seconds"] = report.seconds
        manifest["stage_seconds"] = clock.seconds
        directory.publish(manifest)
        for writer in writers:
            writer.drop_stale(directory.build_ids())
    return report


PARALLEL_PASSAGES = 2_000  # from this many passages, formulations are counted in a second process


def _formulations(root: Path, passages: Path) -> dict:
    """Count the formulations and find the near duplicates of a build's passages (both numbered in
    the store's order); what the manifest records."""
    from .formats import formulations

    store = PassageStore(passages, readonly=True)
    try:
        found = {"phrases": formulations.build(root, store.iter_passages())}
        found.update(duplicates.write(root, (p.norm for p, _ in store.iter_passages())))
        return found
    finally:
        store.close()


def _score_formulations(root: Path, directory: IndexDir) -> dict:
    """Score every kept formulation with the packaged classifier (indexer/formats/formulations.py
    `Classifier`), through the embedding cache; what the manifest records."""
    from .formats import formulations

    classifier = formulations.Classifier.packaged()
    if classifier is None or not formulations.exists(root):
        return {}
    texts = formulations.texts(root)
    scorer = formulations.ScoringEncoder(encoders.open_for_index(directory, classifier.MODEL), classifier)
    cache = EmbeddingCache(directory.embedding_cache)
    try:
        logits, scored = embed_with_cache(scorer, texts, cache)
    finally:
        cache.close()
    scores = formulations.write_scores(root, logits[:, 0], classifier)
    return {"formulations_scored": {"classifier": classifier.digest, "scored": scored,
                                    "shown": int((scores >= classifier.threshold).sum())}}


def _beside(parallel: bool, fn, *args) -> Callable[[], dict]:
    """Start fn(*args) in a process of its own; returns what waits for its answer (not `parallel`: what
    runs it then, in this process)."""
    if not parallel:
        return lambda: fn(*args)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
    future = pool.submit(fn, *args)

    def wait() -> dict:
        try:
            return future.result()
        finally:
            pool.shutdown()
    return wait


def fingerprint(paths: list[str], options: BuildOptions) -> str:
    """A digest of everything a build depends on: each file's name and content,
    the build options and this package's version; where there are .doc-like files, the LibreOffice
    that reads them (installed, or upgraded, since the last build: they are read again); where the
    build embeds, the formulation classifier."""
    digest = hashlib.sha1(json.dumps([__version__, options.model, options.max_seq_length, options.int8, options.embed,
                                      options.ann_threshold, options.sentences, options.second_model,
                                      options.backend, options.milvus_uri, options.milvus_alias]).encode())
    office = False
    for path, key in discover(paths):
        office = office or path.suffix.lower() in OFFICE_SUFFIXES
        digest.update(key.encode("utf-8") + b"\0")
        try:
            with open(path, "rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
        except OSError as exc:
            digest.update(f"unreadable {exc}".encode())
        digest.update(b"\0")
    if office:
        digest.update(office_reader().encode("utf-8"))
    if options.embed:  # a retrained formulation classifier scores the formulations again
        from .formats.formulations import CLASSIFIER_FILE

        digest.update(CLASSIFIER_FILE.read_bytes() if CLASSIFIER_FILE.exists() else b"no classifier")
    return digest.hexdigest()


def _up_to_date(directory: IndexDir, stamp: str) -> bool:
    """Whether the active build has this fingerprint and vectors this installation's encoders still
    make (an index embedded by an earlier conversion of the weights is rebuilt)."""
    try:
        manifest = directory.read_manifest()
    except IndexUnavailable:
        return False
    return manifest.get("fingerprint") == stamp and not encoders.outdated(manifest)


def _index_file(path: Path, key: str, store: PassageStore, report: IndexReport) -> None:
    try:
        sources = read(path, key)
    except Unreadable as exc:
        report.skipped.append((str(path), str(exc)))
        store.record_file(str(path), "skipped", str(exc))
        return
    except OSError as exc:
        report.skipped.append((str(path), f"cannot read: {exc.strerror or exc}"))
        store.record_file(str(path), "skipped", str(exc))
        return
    n_reports = n_passages = 0
    try:
        for source in sources:
            for warning in source.warnings:
                report.notes.append((str(path), warning))
            if not source.text:
                continue
            for doc, doc_passages in documents_of(source, report):
                store.add_document(doc, doc_passages)
                n_reports += 1
                n_passages += len(doc_passages)
    except (Unreadable, OSError) as exc:
        reason = str(exc) if isinstance(exc, Unreadable) else f"cannot read: {exc.strerror or exc}"
        if not n_reports:
            report.skipped.append((str(path), reason))
            store.record_file(str(path), "skipped", reason)
            return
        report.notes.append((str(path), f"stopped reading: {reason}"))
    if n_reports:
        report.files += 1
        store.record_file(str(path), "indexed", None, n_reports, n_passages)
    else:
        report.skipped.append((str(path), "no report text left after clean-up"))
        store.record_file(str(path), "skipped", "no report text left after clean-up")
    report.reports += n_reports
    report.passages += n_passages


def documents_of(source: Source, report: IndexReport | None = None) -> list[tuple[Document, list[StoredPassage]]]:
    """The documents (reports) of one source, with their passages."""
    cleaned = clean(source.text)
    if report is not None:
        record = f"record {source.key.split('#', 1)[1]}: " if "#" in source.key else ""  # a JSONL line
        dropped = ", ".join(f"{n} {what}" for what, n in cleaned.removed.items())
        if dropped:
            report.notes.append((source.path, f"{record}cleaned: {dropped}"))
        if cleaned.unreadable:
            report.notes.append((source.path, f"{record}{cleaned.unreadable} garbled characters could not be read "
                                              f"(kept as \ufffd)"))
    title = source.fields.get("title") or cleaned.title or (leading_title(cleaned.lines) if source.structured
                                                            else one_line_title(cleaned.lines))
    if source.one_report:
        parts = [Report(title, cleaned.lines)]
    else:
        parts = split_reports(cleaned.lines, title)
    base_title = title or cleaned.collection  # None: shown by file name, never ranked on
    out = []
    if not any(part.lines for part in parts) and report is not None and record:  # a whole file: skipped, and said so
        report.notes.append((source.path, f"{record}no text left after clean-up"))
    for number, part in enumerate(parts):
        doc_passages = passages(part)
        if not doc_passages:
            if report is not None and part.lines:
                report.notes.append((source.path, f"{source.key}: report {number + 1} has no passages"))
            continue
        doc_title = part.title or (base_title if number == 0 else None)
        given = source.fields
        found = meta.extract(part.title or title or cleaned.collection,
                             "\n".join(p.text for p in doc_passages), given)
        title_source = meta.DECLARED if doc_title else meta.INFERRED
        doc_title = doc_title or meta.fallback_title(doc_passages[0].text, found)
        doc_id = f"{key_hash(source.key)}-{number}"
        doc = Document(
            doc_id=doc_id, source=source.key.split("#")[0], path=source.path, title=doc_title,
            year=found.year, region=found.region, province=found.province, issuer=found.issuer,
            doc_type=found.doc_type, url=given.get("url"), external_id=given.get("id"),
            n_passages=len(doc_passages), title_source=title_source,
            **{f"{name}_source": found.sources.get(name) for name in meta.FIELDS})
        roles = sections.roles(doc_title, [p.heading_path for p in doc_passages], [p.text for p in doc_passages],
                               doc.year)
        out.append((doc, [_stored(doc_id, p, role) for p, role in zip(doc_passages, roles)]))
    return out


_LEADING_TITLE = re.compile(r"^([^\s。，,；;！？!?]{6,60}?)\s+\S")


def leading_title(lines: list[str]) -> str | None:
    """A title that a one-paragraph text starts with, set off by spaces
    (`怀柔区城市管理委快速部署5大行业复工复产工作 　　怀柔区…`)."""
    if not lines:
        return None
    m = _LEADING_TITLE.match(lines[0])
    if m:
        return m.group(1)
    first = lines[0].strip()
    return first if len(lines) > 1 and len(first) <= 40 and not re.search(r"[。，,；;]", first) else None


def one_line_title(lines: list[str]) -> str | None:
    """The title of a report scraped into one line, set off by a space (`2023年某镇农业农村工作总结
    今年以来，…`): only where it names a kind of document."""
    m = _LEADING_TITLE.match(lines[0]) if len(lines) == 1 else None
    return m.group(1) if m and headings.is_title_line(normalise(m.group(1))) else None


def _stored(doc_id: str, p: Passage, section: str) -> StoredPassage:
    return StoredPassage(passage_id(doc_id, p.position), doc_id, p.position, p.heading_path, p.text,
                         normalise(p.text), section, p.heads)


class _Stages:
    """Seconds each stage of a build took (the manifest's `stage_seconds`; bench/bench.py prints them)."""

    def __init__(self):
        self.seconds: dict[str, float] = {}
        self._last = time.perf_counter()

    def done(self, stage: str) -> None:
        now = time.perf_counter()
        self.seconds[stage] = round(now - self._last, 2)
        self._last = now


def _embed(store: PassageStore, directory: IndexDir, options: BuildOptions, report: IndexReport, progress,
           clock: _Stages):
    """Embed the passages (and sentences) with the first model, the passages with the second; returns
    what the manifest records and the vectors (search.backend.Vectors) for the backends to write."""
    second = options.second_model and encoders.canonical(options.second_model)
    second = second if second != encoders.canonical(options.model) else None
    ids, texts, pieces, owners = [], [], [], []
    for p, doc in store.iter_passages():
        ids.append(p.passage_id)
        # A title made up for an untitled report (metadata.fallback_title) is no context to embed.
        title = doc.title if doc.title_source == meta.DECLARED else None
        texts.append(normalise(passage_input(title, p.heading_path, p.text)))
        if options.sentences:  # bare sentences, one for a passage of one sentence (its text alone)
            found = sentence_pieces(p.norm)
            pieces += found
            owners += [len(ids) - 1] * len(found)
    done = [0]

    def step(n: int) -> None:
        done[0] += n
        if progress:
            progress("embedding", done[0], len(texts) * (2 if second else 1) + len(pieces))

    clock.done("embedding inputs")
    encoder, vectors = _embed_texts(directory, options, texts + pieces, report, step)
    # Kept at float16's precision (in float32): Milvus holds a passage's vectors and its sentences' as
    # float16 to rescore them (indexer/formats/milvus.py `pack_vectors`), so both backends score the
    # same values to the last bit and count the same matches (unrounded, one corpus/ passage scored
    # 0.871760 here and 0.871735 there, on either side of a floor).
    vectors = vectors.astype(np.float16).astype(np.float32)
    clock.done(f"{encoders.canonical(options.model)}: {len(texts)} passages + {len(pieces)} sentences")
    spec = encoder.spec
    out = {"model": spec.model, "max_seq_length": spec.max_tokens, "int8": spec.int8, "dimension": spec.dimension,
           "encoder_spec": encoders.spec_dict(spec), "embedded": report.embedded, "sentence_vectors": len(pieces)}
    _export_query_model(encoder, texts, directory, report, out, "query_encoder")
    second_vectors = None
    if second:
        # int8 (through ONNX Runtime): 2.5 times as fast as float32, the same rankings within noise
        # (bench/README.md, "Build time").
        second_options = replace(options, model=second, max_seq_length=None, int8=SECOND_MODEL_INT8,
                                 sentences=False)
        encoder, second_vectors = _embed_texts(directory, second_options, texts, report, step)
        clock.done(f"{second}: {len(texts)} passages")
        out["second_encoder_spec"] = encoders.spec_dict(encoder.spec)
        _export_query_model(encoder, texts, directory, report, out, "second_query_encoder")
        clock.done(f"{second}: its query encoder exported to ONNX")
    return out, Vectors(ids, vectors[:len(texts)], (vectors[len(texts):], np.array(owners, dtype=np.int64)),
                        second_vectors)


def _embed_texts(directory: IndexDir, options: BuildOptions, texts: list[str], report: IndexReport, step):
    """One model's vectors of the texts, through the embedding cache; counts what it computed."""
    encoder = encoders.open_for_index(directory, options.model, options.max_seq_length, options.int8)
    cache = EmbeddingCache(directory.embedding_cache)
    try:
        vectors, embedded = embed_with_cache(encoder, texts, cache, progress=step)
    finally:
        cache.close()
    report.embedded += embedded
    failed = encoders.failed_export_record(encoder.spec)
    if failed is not None:
        report.notes.append((encoder.spec.model, "its int8 ONNX export failed its check: quantised by PyTorch "
                                                 f"instead, and each command's queries load PyTorch (delete {failed} "
                                                 "to try again)"))
    return encoder, vectors


def _export_query_model(encoder, texts: list[str], directory: IndexDir, report: IndexReport, out: dict,
                        name: str) -> None:
    """A sentence-transformers model's query side exported to ONNX (queries then embed without PyTorch)."""
    if isinstance(encoder, encoders.SentenceTransformerEncoder):
        try:
            if encoder.export_query_model(encoder.query_folder, texts[:32]):
                out[name] = encoder.query_folder.relative_to(directory.path).as_posix()
        except Exception as exc:  # noqa: BLE001 - an optional speed-up never fails a build
            report.notes.append((encoder.spec.model, f"no fast query encoder: {str(exc)[:200]}"))
