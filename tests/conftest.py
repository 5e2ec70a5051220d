"""Shared fixtures: the bundled corpus indexed once per session with the real model."""
from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
SEEDS = {p.name[:3]: p for p in CORPUS.glob("*.txt")}


# The test files that take longest, longest first (seconds of setup and calls, `--durations=0`, this
# 2-core machine, 2026-12-04: 125, 99, 73, 72, 71, 53, 44, 42, 42, 29; the other files 15 or less).
# pytest-xdist hands each file to the worker that frees up first, in collection order
# (`--no-loadscope-reorder`): the long files go out first and the short ones fill in at the end, so
# the two workers finish together (by its default order, by number of tests: 418 s against 328 s).
LONGEST_FIRST = ("test_api.py", "test_schema_fuzz.py", "test_hybrid.py", "test_crash_and_updates.py",
                 "test_browser.py", "test_live_reindex.py", "test_trust.py", "test_encoders.py",
                 "test_keyword_search.py", "test_eval.py")


def pytest_collection_modifyitems(items):
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: a file's own order kept


@pytest.fixture(scope="session")
def milvus_uri(tmp_path_factory) -> str:
    """Milvus Lite as a server of its own on a free loopback port (several processes reach it, as
    they would a Milvus server; a `.db` file is for one process)."""
    port = free_port()
    data = tmp_path_factory.mktemp("milvus") / "data"
    proc = subprocess.Popen([sys.executable, "-m", "milvus_lite", "server", "--data-dir", str(data), "--host",
                             "127.0.0.1", "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for _ in range(120):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            if proc.poll() is not None:
                raise RuntimeError("milvus-lite server exited: " + proc.stderr.read().decode()[-2000:])
            time.sleep(0.25)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def build_both(paths: list[str], index_dir, milvus_uri: str, **options):
    """One build searchable by both backends: the embedded indexes and its Milvus collections."""
    from indexer.pipeline import BuildOptions, build_index

    return build_index(paths, index_dir, BuildOptions(backend="milvus", milvus_uri=milvus_uri, **options))


@pytest.fixture(scope="session")
def corpus_index(tmp_path_factory, milvus_uri, worker_id) -> Path:
    """The bundled corpus, indexed with embeddings for both backends (built once per worker: each has
    its Milvus). The workers of a run share the first build's embedding cache: the second waits for
    it and embeds nothing, as a re-index on a user's machine would."""
    index_dir = tmp_path_factory.mktemp("index")
    if worker_id == "master":
        build_both([str(CORPUS)], index_dir, milvus_uri)
        return index_dir
    shared = tmp_path_factory.getbasetemp().parent / "corpus-cache"  # the run's, beside the workers' own
    with open(shared.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if shared.exists():
            warm_cache(index_dir, shared)
        build_both([str(CORPUS)], index_dir, milvus_uri)
        if not shared.exists():
            shutil.copytree(index_dir / "cache", shared)
    return index_dir


def warm_cache(index_dir: Path, cache: Path) -> Path:
    """A new index folder holding a copy of an embedding cache (an index folder's `cache`): a build
    there embeds only the texts the cache lacks, as a re-index would."""
    shutil.copytree(cache, index_dir / "cache")
    return index_dir


@pytest.fixture(scope="session", params=["embedded", "milvus"])
def backend(request) -> str:
    """Every search test runs against the embedded indexes and against Milvus (Lite)."""
    return request.param


@pytest.fixture(scope="session")
def engine(corpus_index, backend):
    from search.engine import Engine

    eng = Engine(corpus_index, backend=backend)
    yield eng
    eng.close()


@pytest.fixture(scope="session")
def embedded_engine(corpus_index):
    """The corpus index through its embedded files, for tests of those files themselves."""
    from search.engine import Engine

    eng = Engine(corpus_index, backend="embedded")
    yield eng
    eng.close()


@pytest.fixture
def index_copy(corpus_index, tmp_path) -> Path:
    """A private copy of the corpus index, for tests that change it."""
    target = tmp_path / "index"
    shutil.copytree(corpus_index, target)
    return target


def seed_text(prefix: str) -> str:
    return SEEDS[prefix].read_text(encoding="utf-8")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_server(index_dir, backend: str | None = None, log: Path | None = None):
    """`report-search serve` on a free loopback port; yields its base URL. Its output goes to `log`
    (a file: a pipe nobody reads would stall the server once full), by default a temporary one."""
    port = free_port()
    output = open(log, "w+b") if log else tempfile.TemporaryFile()
    proc = subprocess.Popen([sys.executable, "-m", "report_search.cli", "serve", "--index-dir", str(index_dir),
                             "--port", str(port)] + (["--backend", backend] if backend else []), cwd=ROOT, stdout=output, stderr=subprocess.STDOUT,
                            env={**os.environ, "HF_HUB_OFFLINE": "1"})
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(url + "/healthz", timeout=1)
                break
            except OSError:
                if proc.poll() is not None:
                    break
                time.sleep(0.5)
        else:
            raise RuntimeError("server did not start")
        if proc.poll() is not None:
            output.seek(0)
            raise RuntimeError("server exited: " + output.read().decode(errors="replace")[-2000:])
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        output.close()
