"""The one loader of the bench's dev sets: `NAME=INDEX_DIR:DATASET` specs, each an index already
built over the set's corpus and a dataset (a BEIR folder or a seeds-style JSONL), opened with its
judged queries (report_search/evaluation.py judges them). tune.py, parity.py and backends.py read
their sets through it.

The dev sets the measurements in bench/README.md use (W: a folder holding their indexes):

    ncp=W/ncp:../shared/eval/ncp-dev  stard=W/stard:../shared/eval/stard-dev
    seeds=W/seeds:../shared/eval/seeds-dev-queries.jsonl  more=W/seeds:bench/devqueries/seeds-more.jsonl
    extra=W/seeds:bench/devqueries/seeds-extra.jsonl  gov=W/gov:bench/devqueries/gov.jsonl
    gov-more=W/gov:bench/devqueries/gov-more.jsonl

`python bench/devsets.py W` prints those specs for W, to paste or to pass on with $(...).
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable, NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent / "shared" / "eval"
DEV_SETS = {  # name -> (index folder under W, dataset)
    "ncp": ("ncp", SHARED / "ncp-dev"), "stard": ("stard", SHARED / "stard-dev"),
    "seeds": ("seeds", SHARED / "seeds-dev-queries.jsonl"), "more": ("seeds", HERE / "devqueries/seeds-more.jsonl"),
    "extra": ("seeds", HERE / "devqueries/seeds-extra.jsonl"), "gov": ("gov", HERE / "devqueries/gov.jsonl"),
    "gov-more": ("gov", HERE / "devqueries/gov-more.jsonl"),
}


class DevSet(NamedTuple):
    name: str
    index_dir: str
    dataset: Path


class OpenSet(NamedTuple):
    name: str
    engine: object  # search.engine.Engine
    queries: list[dict]
    judge: Callable  # (query, [(passage id, duplicates)]) -> (gains, number relevant)


def parse(spec: str) -> DevSet:
    name, _, rest = spec.partition("=")
    index_dir, _, dataset = rest.partition(":")
    if not (name and index_dir and dataset):
        raise SystemExit(f"a dev set is NAME=INDEX_DIR:DATASET, not '{spec}'")
    return DevSet(name, index_dir, Path(dataset))


def open_sets(specs: list[str], limit: int | None = None, **engine_options) -> list[OpenSet]:
    """Each set's engine (one per index directory, shared by the sets over it), queries and judge."""
    from report_search.evaluation import judged_queries
    from search.engine import Engine

    engines: dict[str, Engine] = {}
    out = []
    for spec in specs:
        s = parse(spec)
        if s.index_dir not in engines:
            engines[s.index_dir] = Engine(s.index_dir, **engine_options)
        engine = engines[s.index_dir]
        out.append(OpenSet(s.name, engine, *judged_queries(s.dataset, engine, limit)))
    return out


if __name__ == "__main__":
    work = Path(sys.argv[1] if len(sys.argv) > 1 else "W")
    print(" ".join(f"{name}={work / folder}:{dataset}" for name, (folder, dataset) in DEV_SETS.items()))
