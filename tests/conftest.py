"""Shared fixtures: the bundled corpus indexed once per session with the real model."""
from __future__ import annotations

import os
import shutil
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
