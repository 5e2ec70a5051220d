"""How `report-search serve` runs: one process per core behind one socket, stopping as one; a request
uses the cores while no other computes; a passage's score is the same bit for bit however its
product was split or gathered."""
from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from conftest import ROOT, free_port
from indexer.formats.bm25 import top_k
from search.semantic import dot, product
from web.serving import Load


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(c) for c in path.read_text().split()] if path.exists() else []


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not stat.exists() or stat.read_text().split(") ")[1][0] != "Z"


def _start(index_dir) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "report_search.cli", "serve", "--index-dir", str(index_dir),
                             "--port", str(port), "--workers", "2"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    url = f"http://127.0.0.1:{port}"
    for _ in range(240):
        try:
            urllib.request.urlopen(url + "/healthz", timeout=1)
            return proc, url
        except OSError:
            assert proc.poll() is None, proc.stdout.read().decode()[-2000:]
            time.sleep(0.25)
    proc.kill()
    raise AssertionError("server did not start")


def _wait_gone(pids: list[int], seconds: float = 15) -> list[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.1)
    return [p for p in pids if _alive(p)]


def test_two_worker_processes_answer_and_stop_together(corpus_index):
    """Both processes take requests from the one port; a worker that dies stops the server with a
    message (not half a server); a server killed outright takes its workers with it."""
    proc, url = _start(corpus_index)
    try:
        workers = _children(proc.pid)
        answers = [json.load(urllib.request.urlopen(f"{url}/api/search?q=%E5%9F%8E%E7%AE%A1&mode=keyword"))
                   for _ in range(6)]
        assert all(a == answers[0] for a in answers) and answers[0]["total"] > 0
        # a second server on the same port: one line saying so, and no "serving" line before it
        taken = subprocess.run([sys.executable, "-m", "report_search.cli", "serve", "--index-dir", str(corpus_index),
                                "--port", url.rsplit(":", 1)[1]], cwd=ROOT, capture_output=True, text=True,
                               env={**os.environ, "HF_HUB_OFFLINE": "1"}, timeout=120)
        assert taken.returncode == 1 and "cannot listen on" in taken.stderr and "serving" not in taken.stdout
        assert "Traceback" not in taken.stderr
        servers = [p for p in workers if "spawn_main" in Path(f"/proc/{p}/cmdline").read_text()]
        assert len(servers) == 2, workers
        os.kill(servers[0], signal.SIGKILL)
        assert proc.wait(timeout=20) != 0
        assert "a server process stopped" in proc.stdout.read().decode()
        assert not _wait_gone(servers)
    finally:
        if proc.poll() is None:
            proc.kill()
    proc, url = _start(corpus_index)
    servers = [p for p in _children(proc.pid) if "spawn_main" in Path(f"/proc/{p}/cmdline").read_text()]
    assert len(servers) == 2
    proc.kill()  # SIGKILL: no chance to stop the workers itself
    proc.wait(timeout=10)
    assert not _wait_gone(servers)


def test_a_request_uses_the_cores_only_while_no_other_computes():
    load = Load(multiprocessing.get_context("spawn"), cores=2)
    seen, both_in = [], threading.Barrier(2)

    def app(environ, start_response):
        if environ.get("together"):
            both_in.wait(timeout=10)
        seen.append(load.spare())
        if environ.get("together"):
            both_in.wait(timeout=10)
        start_response("200 OK", [])
        return [b"ok"]

    gated = load.gate(app, slots=2)
    assert gated({}, lambda *a: None) == [b"ok"] and seen == [True]  # alone: a core to spare
    seen.clear()
    threads = [threading.Thread(target=gated, args=({"together": 1}, lambda *a: None)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20)
    assert seen == [False, False]  # two at once on two cores: none to spare
    assert load.spare() and load._count.value == 0


def test_a_row_scores_the_same_to_the_last_bit_alone_gathered_or_split_over_threads():
    rng = np.random.default_rng(7)
    matrix = rng.standard_normal((20_011, 384)).astype(np.float32)
    pool = ThreadPoolExecutor(3)
    with threadpool_limits(1, user_api="blas"):  # as the server runs it
        for _ in range(3):
            vector = rng.standard_normal(384).astype(np.float32)
            whole = dot(matrix, vector)
            assert np.abs(whole - matrix @ vector).max() < 1e-4
            for parts in (2, 3, 4):
                assert np.array_equal(product(matrix, vector, parts, pool), whole), parts
            rows = np.sort(rng.choice(len(matrix), 333, replace=False))
            assert np.array_equal(dot(matrix[rows], vector), whole[rows])
            assert all(dot(matrix[r:r + 1], vector)[0] == whole[r] for r in rows[:20])
    assert np.array_equal(product(matrix[:100], vector, 4, pool), dot(matrix[:100], vector))  # too few rows to split
    pool.shutdown()


def test_equal_scores_keep_the_order_of_their_rows():
    scores = np.array([0.5, 0.9, 0.7, 0.9, 0.7, 0.7, 0.1], dtype=np.float32)
    assert top_k(scores, None, 4).tolist() == [1, 3, 2, 4]
    assert top_k(scores, None, 10).tolist() == [1, 3, 2, 4, 5, 0, 6]


def test_a_missing_index_gives_one_error_line_and_no_serving_line(tmp_path):
    for workers in ("1", "2"):
        run = subprocess.run([sys.executable, "-m", "report_search.cli", "serve", "--index-dir", str(tmp_path / "none"),
                              "--port", str(free_port()), "--workers", workers], cwd=ROOT, capture_output=True,
                             text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"}, timeout=120)
        assert run.returncode == 1 and "no index in" in run.stderr, (workers, run.stderr)
        assert "serving" not in run.stdout and "Traceback" not in run.stderr, workers
