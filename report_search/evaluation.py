"""`report-search eval`: nDCG@10, MRR@10, Recall@10/100 and latency per mode.

Two dataset kinds:
- a BEIR folder (corpus.jsonl, queries.jsonl, qrels.tsv with header): the corpus is
  indexed (into a temporary directory unless one is given); a document scores by its
  best passage;
- a seeds-style JSONL of queries with substring judgments, run against an existing index:
  a returned passage is relevant to a unit when its normalised text holds one of the
  unit's windows, and each unit counts once.
"""
from __future__ import annotations

import json
import math
import re
import tempfile
import time
from pathlib import Path
from typing import Callable

from indexer.text import normalise
from search.engine import Engine, SearchSettings


def ndcg(gains: list[int], n_relevant: int, k: int = 10) -> float:
    dcg = sum(g / math.log2(i + 2) for i, g in enumerate(gains[:k]))
    idcg = sum(1 / math.log2(i + 2) for i in range(min(k, n_relevant)))
    return dcg / idcg if idcg else 0.0


def mrr(gains: list[int], k: int = 10) -> float:
    return next((1 / (i + 1) for i, g in enumerate(gains[:k]) if g), 0.0)


def recall(gains: list[int], n_relevant: int, k: int) -> float:
    return sum(gains[:k]) / n_relevant if n_relevant else 0.0


def run(dataset: str, modes: list[str], index_dir: str | None = None, limit: int | None = None,
        settings: SearchSettings = SearchSettings(), engine_options: dict | None = None) -> dict:
    """Score each mode on a labelled set. `engine_options`: Engine's backend and milvus_uri (a BEIR set
    built here is written to that Milvus too)."""
    path = Path(dataset)
    options = engine_options or {}
    if path.is_dir():
        return _run_beir(path, modes, index_dir, limit, settings, options)
    if index_dir is None:
        raise ValueError("a seeds-style query file runs against an existing index: give --index-dir")
    return _score_all(path, path.stem, modes, index_dir, limit, settings, options)


def _summarise(name: str, n: int, rows: dict[str, list[dict]], kinds: list[str] | None = None) -> dict:
    """Mean metrics per mode; with each query's kind, nDCG@10 per kind and mode too."""
    out = {"dataset": name, "queries": n, "modes": {}}
    for mode, per_query in rows.items():
        out["modes"][mode] = {metric: round(sum(r[metric] for r in per_query) / max(len(per_query), 1), 4)
                              for metric in ("ndcg@10", "mrr@10", "recall@10", "recall@100", "latency_ms")}
    if kinds and len(set(kinds)) > 1:
        out["kinds"] = {}
        for kind in sorted(set(kinds)):
            picked = [i for i, k in enumerate(kinds) if k == kind]
            out["kinds"][kind] = {"queries": len(picked), **{
                mode: round(sum(per_query[i]["ndcg@10"] for i in picked) / len(picked), 4)
                for mode, per_query in rows.items()}}
    return out


def load_beir(folder: Path, limit: int | None = None) -> tuple[list[dict], dict[str, set[str]]]:
    """The judged queries of a BEIR folder (those with a relevant document) and their relevant ids."""
    queries = [json.loads(line) for line in (folder / "queries.jsonl").open(encoding="utf-8") if line.strip()]
    qrels: dict[str, set[str]] = {}
    with (folder / "qrels.tsv").open(encoding="utf-8") as handle:
        next(handle)
        for line in handle:
            parts = line.rstrip("\n").split("\t")
            if len(parts) >= 3 and float(parts[2]) > 0:
                qrels.setdefault(parts[0], set()).add(parts[1])
    return [q for q in queries if q["_id"] in qrels][:limit], qrels


Ranking = list[tuple[str, list[str]]]  # (passage id, ids of the near-duplicates folded into it), best first


def judged_queries(dataset: Path, engine: Engine, limit: int | None = None
                   ) -> tuple[list[dict], Callable[[dict, Ranking], tuple[list[int], int]]]:
    """A dataset's queries and a judge: (query, ranking) -> (gain of each result, number relevant).

    BEIR: a document is relevant; a passage stands for its document, and a collapsed result
    for its near-duplicates' documents too (the page shows them). Seeds-style: a passage is
    relevant to a unit when its text holds one of the unit's windows; each unit counts once."""
    if dataset.is_dir():
        queries, qrels = load_beir(dataset, limit)
        ext = {row[0]: row[1] for row in engine.store.db.execute("SELECT doc_id, external_id FROM documents")}

        def beir_gains(q: dict, ranking: Ranking) -> tuple[list[int], int]:
            docs: list[str] = []
            for pid, duplicates in ranking:
                for other in [pid] + list(duplicates):
                    doc = ext.get(other.rsplit("-", 1)[0])
                    if doc not in docs:
                        docs.append(doc)
            relevant = qrels[q["_id"]]
            return [int(d in relevant) for d in docs], len(relevant)

        return queries, beir_gains
    queries = [json.loads(line) for line in dataset.open(encoding="utf-8") if line.strip()][:limit]

    def substring_gains(q: dict, ranking: Ranking) -> tuple[list[int], int]:
        passages = engine.store.passages([pid for pid, _ in ranking])
        texts = [_judge_form(passages[pid].text) for pid, _ in ranking if pid in passages]
        return unit_gains(texts, q["relevant"]), len(q["relevant"])

    return queries, substring_gains


def _run_beir(folder: Path, modes: list[str], index_dir: str | None, limit: int | None,
              settings: SearchSettings, options: dict) -> dict:
    from indexer.pipeline import BuildOptions, build_index
    from indexer.writers import writers

    with tempfile.TemporaryDirectory() as tmp:
        target = index_dir or str(Path(tmp) / "index")
        if index_dir is None or not (Path(target) / "manifest.json").exists():
            corpus = Path(tmp) / "corpus.jsonl"
            with corpus.open("w", encoding="utf-8") as out, (folder / "corpus.jsonl").open(encoding="utf-8") as src:
                for line in src:
                    doc = json.loads(line)
                    out.write(json.dumps({"id": doc["_id"], "title": doc.get("title") or None,
                                          "text": doc.get("text", "")}, ensure_ascii=False) + "\n")
            build = BuildOptions()
            if options.get("backend") == "milvus":
                build = BuildOptions(backend="milvus", milvus_uri=options.get("milvus_uri"))
            build_index([str(corpus)], target, build)
        result = _score_all(folder, folder.name, modes, target, limit, settings, options)
        if index_dir is None:  # a temporary build: nothing of it stays behind in Milvus either
            for writer in writers(build.backend, target, milvus_uri=build.milvus_uri, milvus_alias=build.milvus_alias):
                writer.drop_stale(set())
        return result


def _score_all(dataset: Path, name: str, modes: list[str], index_dir: str, limit: int | None,
               settings: SearchSettings = SearchSettings(), options: dict | None = None) -> dict:
    engine = Engine(index_dir, settings, **(options or {}))
    queries, judge = judged_queries(dataset, engine, limit)
    rows: dict[str, list[dict]] = {m: [] for m in modes}
    for q in queries:
        for mode in modes:
            started = time.perf_counter()
            result = engine.search(q["text"], mode=mode, k=100)
            latency = (time.perf_counter() - started) * 1000
            gains, n = judge(q, [(r["passage_id"], r.get("duplicates", [])) for r in result["results"]])
            rows[mode].append({"ndcg@10": ndcg(gains, n), "mrr@10": mrr(gains), "recall@10": recall(gains, n, 10),
                               "recall@100": recall(gains, n, 100), "latency_ms": latency})
    engine.close()
    return _summarise(name, len(queries), rows, [q.get("kind", "") for q in queries])


_PINYIN = re.compile(r"\([a-zāáǎàēéěèīíǐìōóǒòūúǔùüǖǘǚǜńňḿ]+\)")
_KEEP = re.compile(r"[^\u4e00-\u9fff0-9a-z]")


def _judge_form(text: str) -> str:
    """The judgments' normal form: no pinyin, simplified, only CJK letters and digits."""
    return _KEEP.sub("", normalise(_PINYIN.sub("", text)))


def unit_gains(texts: list[str], units: list[dict]) -> list[int]:
    """1 where a passage (in judgment form) holds a window of a unit not yet credited."""
    credited: set[str] = set()
    gains = []
    for text in texts:
        unit = next((u["unit"] for u in units if u["unit"] not in credited
                     and any(w in text for w in u["windows"])), None)
        gains.append(int(unit is not None))
        if unit:
            credited.add(unit)
    return gains
