"""Train the learned ranker (search/ranker.py) and measure it on queries it was not trained on.

Usage: python bench/train_ranker.py W [--work DIR] [--folds 5] [--no-write]

W holds the dev sets' indexes (bench/devsets.py: W/ncp, W/stard, W/seeds, W/gov). For every
labelled query of the dev sets, and for queries made from the seeds and gov corpora without labels
by hand, the engine's hybrid candidates (today's interpolation order, the match definition applied,
near-duplicates folded) and their features are computed once and kept in DIR. Then:

1. query-grouped cross-validation (every query in exactly one held-out fold, folds drawn with a
   fixed seed): nDCG@10 per set and per query kind, of today's order and of the ranker's, each
   query judged by its set's own judge (report_search/evaluation.py);
2. the model trained on every query, written to search/data/ranker.txt with its sidecar
   ranker.json (the models it expects, the figures of step 1, the feature importances).

Queries made from the corpora (kinds `heading`, `sentence`, `thesaurus`):
- a section heading → the passages under it in its report;
- a passage's first sentence → that passage;
- a thesaurus entry's plain words → the passages holding one of its official terms.
"""
from __future__ import annotations

import argparse
import json
import pickle
import random
import re
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import devsets  # noqa: E402
from report_search import evaluation  # noqa: E402
from search import candidates, ranker  # noqa: E402
from search.engine import Engine, SearchSettings  # noqa: E402
from search.hits import Filters  # noqa: E402

SEED = 20261203
MADE = 150  # queries of each made kind per corpus
PARAMS = {"objective": "lambdarank", "metric": "ndcg", "ndcg_eval_at": [10], "learning_rate": 0.05,
          "num_leaves": 15, "min_data_in_leaf": 30, "feature_fraction": 0.8, "bagging_fraction": 0.8,
          "bagging_freq": 1, "lambdarank_truncation_level": 20, "seed": SEED, "deterministic": True,
          "num_threads": 2, "verbose": -1}
ROUNDS = 100
MADE_WEIGHT = 0.2  # of a made query against a labelled one: enough to learn their kinds, not to outvote the sets
MADE_KINDS = ("heading", "sentence", "thesaurus")
_MARKER = re.compile(r"^[(（]?[一二三四五六七八九十\d]+[)）、.．]\s*")
_SENTENCE = re.compile(r"[^。！？；!?;]+")


def made_queries(engine: Engine, rng: random.Random) -> list[dict]:
    """Queries made from a corpus, each with the set of passage ids that answer it."""
    rows = engine.store.db.execute("SELECT passage_id, doc_id, heading_path, norm FROM passages").fetchall()
    by_heading: dict[tuple[str, str], list[str]] = {}
    sentences = []
    for pid, doc, path, norm in rows:
        heads = json.loads(path) if path else []
        if heads:
            by_heading.setdefault((doc, heads[-1]), []).append(pid)
        first = _SENTENCE.match(norm or "")
        if first and 12 <= len(first.group(0)) <= 40:
            sentences.append((pid, first.group(0)))
    out = []
    headings = sorted((k, v) for k, v in by_heading.items() if 4 <= len(_MARKER.sub("", k[1])) <= 24)
    for (doc, heading), pids in rng.sample(headings, min(MADE, len(headings))):
        out.append({"text": _MARKER.sub("", heading), "kind": "heading", "answers": sorted(pids)})
    for pid, sentence in rng.sample(sorted(sentences), min(MADE, len(sentences))):
        out.append({"text": sentence, "kind": "sentence", "answers": [pid]})
    entries = list(engine.thesaurus.entries)
    rng.shuffle(entries)
    kept = 0
    for term, officials in entries:
        answers = set()
        for official in officials:
            answers.update(engine.retrieval.phrase_ids(official, None, 5000))
        if answers and kept < MADE:
            out.append({"text": term, "kind": "thesaurus", "answers": sorted(answers)})
            kept += 1
    return out


def made_judge(q: dict, ranking: list) -> tuple[list[int], int]:
    answers = set(q["answers"])
    return [int(any(p in answers for p in [pid, *dups])) for pid, dups in ranking], len(answers)


def blocks(engine: Engine, queries: list[dict], judge) -> list[dict]:
    """Each query's candidate block in today's order, its features and each candidate's label."""
    out = []
    for q in queries:
        parsed = engine.keyword.parse(q["text"])
        head, _ = engine._rank(parsed, "hybrid", 10, Filters())
        if not head:
            out.append({"kind": q.get("kind"), "ranking": [], "y": []})
            continue
        block = head[:engine.settings.candidates]  # what the engine's ranker scores
        found = candidates.signals(engine, parsed, block)
        ranking = [(f.passage_id, list(f.duplicates)) for f in head]
        y = [int(any(judge(q, [item])[0])) for item in ranking[:len(block)]]
        out.append({"kind": q.get("kind"), "ranking": ranking, "signals": found, "x": ranker.features(found),
                    "y": y, "q": q})
    return out


def dump(sets: list, cache: Path) -> dict[str, list[dict]]:
    """Every set's blocks, computed once and kept in `cache`."""
    if cache.exists():
        return pickle.loads(cache.read_bytes())
    data: dict[str, list[dict]] = {}
    for name, engine, queries, judge in sets:
        t = time.perf_counter()
        data[name] = blocks(engine, queries, judge)
        print(f"{name}: {len(queries)} queries, {time.perf_counter() - t:.0f} s", flush=True)
    rng = random.Random(SEED)
    for corpus in ("seeds", "gov"):
        engine = next(s.engine for s in sets if s.name == corpus)
        made = made_queries(engine, rng)
        t = time.perf_counter()
        data[f"made-{corpus}"] = blocks(engine, made, made_judge)
        print(f"made-{corpus}: {len(made)} queries, {time.perf_counter() - t:.0f} s", flush=True)
    cache.write_bytes(pickle.dumps(data))
    return data


def train(rows: list[dict], rounds: int = ROUNDS):
    import lightgbm

    rows = [r for r in rows if len(r["y"]) > 1 and any(r["y"])]  # a query without a relevant candidate teaches nothing
    x = np.vstack([r["x"] for r in rows])
    y = np.concatenate([r["y"] for r in rows])
    weight = np.concatenate([np.full(len(r["y"]), MADE_WEIGHT if r["kind"] in MADE_KINDS else 1.0) for r in rows])
    data = lightgbm.Dataset(x, y, weight=weight, group=[len(r["y"]) for r in rows],
                            feature_name=list(ranker.FEATURES), free_raw_data=False)
    return lightgbm.train(PARAMS, data, num_boost_round=rounds)


def ndcg_of(order: list[int], row: dict, judge) -> float:
    ranking = [row["ranking"][i] for i in order]
    gains, n = judge(row["q"], ranking[:100])
    return evaluation.ndcg(gains, n)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("work", type=Path, help="folder of the dev sets' indexes (bench/devsets.py)")
    ap.add_argument("--work", dest="cache_dir", type=Path, default=Path("/tmp/ranker-work"))
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=ROUNDS)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    args.cache_dir.mkdir(parents=True, exist_ok=True)
    specs = [f"{name}={args.work / folder}:{dataset}" for name, (folder, dataset) in devsets.DEV_SETS.items()]
    sets = devsets.open_sets(specs, settings=replace(SearchSettings(), ranker="interpolate"))
    data = dump(sets, args.cache_dir / "blocks.pkl")
    judges = {s.name: s.judge for s in sets}
    judges.update({name: made_judge for name in data if name.startswith("made-")})
    rows = [(name, r) for name, rs in data.items() for r in rs if r["ranking"]]
    for _, r in rows:  # the features as search/ranker.py computes them today, from the kept signals
        r["x"] = ranker.features(r["signals"])
    rng = random.Random(SEED)
    fold_of = [rng.randrange(args.folds) for _ in rows]
    held: dict[int, np.ndarray] = {}
    for fold in range(args.folds):
        model = train([r for (_, r), f in zip(rows, fold_of) if f != fold], args.rounds)
        for i, ((_, r), f) in enumerate(zip(rows, fold_of)):
            if f == fold:  # scored as the engine scores: the model, then the wording boost
                held[i] = ranker.with_wording(model.predict(r["x"], num_threads=2), r["x"],
                                              SearchSettings().wording_weight)
    figures: dict[str, dict[str, list[float]]] = {}
    for i, (name, r) in enumerate(rows):
        before = ndcg_of(list(range(len(r["ranking"]))), r, judges[name])
        order = list(np.lexsort((np.arange(len(held[i])), -held[i])))
        after = ndcg_of(order + list(range(len(order), len(r["ranking"]))), r, judges[name])
        for key in {name, f"{name}:{r['kind']}" if r["kind"] else name}:
            figures.setdefault(key, {"before": [], "after": []})
            figures[key]["before"].append(before)
            figures[key]["after"].append(after)
    # queries with no candidate score 0 either way: count them in the set's mean
    for name, rs in data.items():
        empty = sum(1 for r in rs if not r["ranking"])
        for side in ("before", "after"):
            figures.setdefault(name, {"before": [], "after": []})[side].extend([0.0] * empty)
    table = {key: {side: round(statistics.mean(v), 4) for side, v in f.items()} | {"queries": len(f["before"])}
             for key, f in sorted(figures.items())}
    print(f"\n{'set / kind':24} {'queries':>7} {'today':>7} {'ranker':>7} {'change':>7}")
    for key, f in table.items():
        print(f"{key:24} {f['queries']:7d} {f['before']:7.4f} {f['after']:7.4f} {f['after'] - f['before']:+7.4f}")
    core = [k for k in ("ncp", "stard", "seeds") if k in table]
    together = {side: statistics.mean(v for k in core for v in figures[k][side]) for side in ("before", "after")}
    print(f"{'ncp+stard+seeds':24} {'':7} {together['before']:7.4f} {together['after']:7.4f} "
          f"{together['after'] - together['before']:+7.4f}")
    if args.no_write:
        return
    model = train([r for _, r in rows], args.rounds)
    model.save_model(str(ranker.MODEL_FILE))
    gain = model.feature_importance("gain")
    importance = {n: round(float(g / gain.sum()), 4) for n, g in sorted(zip(ranker.FEATURES, gain), key=lambda t: -t[1])}
    meta = {"models": {"model": "e5-small", "second": "m3e-small", "sentences": True},
            "trained_on": {name: len(rs) for name, rs in data.items()}, "rounds": args.rounds, "seed": SEED,
            "cross_validated": table, "importance": importance}
    ranker.MODEL_FILE.with_suffix(".json").write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
    print("\nimportance (share of gain):", ", ".join(f"{k} {v:.3f}" for k, v in list(importance.items())[:15]))
    print(f"wrote {ranker.MODEL_FILE} ({ranker.MODEL_FILE.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
