"""Shared fixtures: the bundled corpus indexed once per session with the real model."""
from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
SEEDS = {p.name[:3]: p for p in CORPUS.glob("*.txt")}


@pytest.fixture(scope="session")
def corpus_index(tmp_path_factory) -> Path:
    """The bundled corpus, indexed with embeddings (built once)."""
    from indexer.pipeline import build_index

    index_dir = tmp_path_factory.mktemp("index")
    build_index([str(CORPUS)], index_dir)
    return index_dir


@pytest.fixture(scope="session")
def engine(corpus_index):
    from search.engine import Engine

    eng = Engine(corpus_index)
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
def running_server(index_dir):
    """`report-search serve` on a free loopback port; yields its base URL."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "report_search.cli", "serve", "--index-dir", str(index_dir),
                             "--port", str(port)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
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
            raise RuntimeError("server exited: " + proc.stdout.read().decode()[-2000:])
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
