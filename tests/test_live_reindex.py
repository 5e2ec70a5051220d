"""Re-indexing under a running server: it switches to the new version by itself, no failed request."""
from __future__ import annotations

import json
import shutil
import threading
import time
import urllib.error
import urllib.request
from urllib.parse import quote

from conftest import CORPUS, running_server

from indexer.pipeline import BuildOptions, build_index

NEW_REPORT = "某县2023年河长制工作总结\n一、主要做法\n今年我县全面推行“河湖长+检察长”协作机制，清理河道垃圾1200余吨。\n"


def get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def _hits(base: str) -> list:
    status, body = get(f"{base}/api/search?q={quote('“河湖长+检察长”')}&mode=keyword")
    assert status == 200
    return body["results"]


def _within_seconds(check, seconds: float = 10.0) -> bool:
    """Whether `check()` comes true within a few seconds."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.5)
    return False


def test_queries_keep_working_during_reindex_and_new_text_becomes_findable(index_copy, tmp_path, backend, milvus_uri):
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    options = BuildOptions(backend=backend, milvus_uri=milvus_uri if backend == "milvus" else None)
    with running_server(index_copy, backend) as base:
        statuses: list[int] = []
        stop = threading.Event()

        def hammer():
            queries = ["城市管理", '"门前三包"', "垃圾分类 region:成都", "河长制"]
            i = 0
            while not stop.is_set():
                q = queries[i % len(queries)]
                mode = ["keyword", "hybrid", "semantic"][i % 3]
                statuses.append(get(f"{base}/api/search?q={quote(q)}&mode={mode}")[0])
                i += 1

        workers = [threading.Thread(target=hammer) for _ in range(2)]
        for w in workers:
            w.start()
        (corpus / "new.txt").write_text(NEW_REPORT, encoding="utf-8")
        build_index([str(corpus)], index_copy, options)
        found = _within_seconds(lambda: bool(_hits(base)))
        (corpus / "new.txt").unlink()
        build_index([str(corpus)], index_copy, options)  # a second switch: the first old build is removed
        gone = _within_seconds(lambda: not _hits(base))
        _within_seconds(lambda: len(statuses) > 20, 60)  # the first queries on each new build load it
        stop.set()
        for w in workers:
            w.join()
        assert found, "new text not findable after re-index"
        assert gone, "a deleted file's passages still found after re-index"
        assert len(statuses) > 20 and set(statuses) == {200}, {s: statuses.count(s) for s in set(statuses)}
