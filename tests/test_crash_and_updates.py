"""The indexer killed at any moment, incremental re-indexing, and two indexers on one directory.

Real `report-search index` processes, killed with SIGKILL at points seen from
outside (a new build folder, its keyword index, new vectors in the cache).
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner
from conftest import CORPUS, ROOT, build_both, seed_text

from indexer.pipeline import build_index
from report_search.cli import main
from search.engine import Engine

EXTRA_TITLE = "某市2024年城市治理补充报告"


def extra_report(seeds: tuple[str, ...] = ("001",)) -> str:
    """A report none of whose paragraphs is in the bundled corpus (nothing cached), made from the lines
    of these seed reports."""
    lines = [EXTRA_TITLE]
    for prefix in seeds:
        for i, line in enumerate(seed_text(prefix).splitlines()):
            lines.append(f"{line}（补{prefix}-{i}）" if len(line) > 30 else line)
    return "\n".join(lines) + "\n"


def start_indexer(corpus, index_dir, chunk: int | None = None) -> subprocess.Popen:
    """`report-search index` in a process of its own; `chunk`: texts an encoder is handed at a time
    (each finished chunk is cached)."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1"} | ({"REPORT_SEARCH_EMBED_CHUNK": str(chunk)} if chunk else {})
    return subprocess.Popen([sys.executable, "-m", "report_search.cli", "index", str(corpus), "--index-dir",
                             str(index_dir), "--quiet"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, env=env)


def new_builds(index_dir, active: str) -> list:
    return [b for b in (index_dir / "builds").iterdir() if b.name != active]


def cached_vectors(index_dir) -> int:
    db = sqlite3.connect(f"file:{index_dir / 'cache' / 'embeddings.sqlite'}?mode=ro", uri=True, timeout=30)
    try:
        return db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0]
    finally:
        db.close()


def active_build(index_dir) -> str:
    return json.loads((index_dir / "manifest.json").read_text(encoding="utf-8"))["build"]


def wait_until(check, proc, what: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if proc.poll() is not None:
            pytest.fail(f"indexer finished before {what}:\n{proc.stdout.read().decode()}")
        if time.monotonic() > deadline:
            pytest.fail(f"no {what} within {timeout} s")
        time.sleep(0.02)


def extra_found(engine, seed: str = "001") -> bool:
    found = engine.search(f'"补{seed}"', mode="keyword", k=10)["results"]
    return bool(found) and all(r["source"].endswith("extra.txt") for r in found)


def answers(index_dir) -> list[str]:
    engine = Engine(index_dir)
    try:
        return [r["passage_id"] for r in engine.search("城管进小区 垃圾分类", mode="hybrid", k=10)["results"]]
    finally:
        engine.close()


def test_sigkill_at_any_stage_leaves_the_served_index_whole_and_a_rerun_finishes(index_copy, tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    # 220 new texts for e5-small (48 passages, 172 sentences), handed over 64 at a time: the third kill
    # comes after the first chunk is cached, and the rerun embeds only the rest
    (corpus / "extra.txt").write_text(extra_report(), encoding="utf-8")
    served, before = active_build(index_copy), answers(index_copy)
    cached_at_start = cached_vectors(index_copy)
    kill_points = {
        "a new build folder": lambda: bool(new_builds(index_copy, served)),
        "its keyword index": lambda: any((b / "keyword").exists() for b in new_builds(index_copy, served)),
        "new vectors in the cache": lambda: cached_vectors(index_copy) > cached_at_start,
    }
    for what, reached in kill_points.items():
        proc = start_indexer(corpus, index_copy, chunk=64)
        wait_until(reached, proc, what)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert active_build(index_copy) == served, f"killed at {what}: the manifest moved"
        assert answers(index_copy) == before, f"killed at {what}: the served index changed"

    cached_before_rerun = cached_vectors(index_copy)
    assert cached_before_rerun > cached_at_start  # the killed run's finished chunks were kept
    report = build_index([str(corpus)], index_copy)  # the lock died with the killed process
    assert active_build(index_copy) != served
    engine = Engine(index_copy)
    new_texts = cached_vectors(index_copy) - cached_at_start  # extra.txt's passages and sentences
    assert 0 < report.embedded < new_texts  # what the killed run embedded was reused
    assert extra_found(engine)


def test_reindex_adds_updates_and_removes_files_embedding_only_what_changed(index_copy, tmp_path, milvus_uri):
    """With the session index's options (both backends): the re-index is searched through Milvus."""
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    first = build_both([str(corpus)], index_copy, milvus_uri)
    assert first.up_to_date and first.embedded == 0  # nothing changed since the session index

    removed = next(corpus.glob("002_*.txt"))
    removed.unlink()
    changed = next(corpus.glob("001_*.txt"))
    changed.write_text(changed.read_text(encoding="utf-8").replace("城管进小区", "城管进社区"), encoding="utf-8")
    (corpus / "new.txt").write_text("某县2023年河长制工作总结\n一、主要做法\n今年我县推行“河湖长+检察长”协作机制。\n",
                                    encoding="utf-8")
    report = build_both([str(corpus)], index_copy, milvus_uri)
    engine = Engine(index_copy)
    assert engine.backend == "milvus"
    sources = {r[0] for r in engine.store.db.execute("SELECT source FROM documents")}
    assert not any("002_" in s for s in sources)
    for mode in ("keyword", "semantic", "hybrid"):
        hits = engine.search("城市管理 工作总结", mode=mode, k=100)["results"]
        assert hits and not any("002_" in h["source"] for h in hits), mode
    assert engine.search('"城管进社区"', mode="keyword")["results"]
    assert not engine.search('"城管进小区"', mode="keyword")["results"]
    assert engine.search('"河湖长检察长"', mode="keyword")["results"]
    # Only the changed passages and sentences and the new file's were embedded (passages twice: the
    # second model's vectors).
    from indexer.embedding import sentence_pieces

    changed = [p.norm for p, _ in engine.store.iter_passages() if "城管进社区" in p.text]
    changed_texts = len(changed) + sum("城管进社区" in s for text in changed for s in sentence_pieces(text))
    assert 0 < report.embedded <= changed_texts + len(changed) + 8


def test_second_indexer_on_the_same_directory_refuses_with_a_message(index_copy, tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    # the first indexer holds the lock from its start (loading the models alone takes seconds): a
    # shorter new report than the kill test's is enough
    (corpus / "extra.txt").write_text(extra_report(), encoding="utf-8")
    served = active_build(index_copy)
    proc = start_indexer(corpus, index_copy)
    try:
        wait_until(lambda: bool(new_builds(index_copy, served)), proc, "a new build folder")
        second = CliRunner().invoke(main, ["index", str(corpus), "--index-dir", str(index_copy), "--quiet"])
        assert second.exit_code == 1
        assert "another indexer is writing" in second.output and "Traceback" not in second.output
    finally:
        out, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0, out.decode()
    assert active_build(index_copy) != served
    assert extra_found(Engine(index_copy))
