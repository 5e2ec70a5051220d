"""Same rankings? Dump each dev query's first results and total, then compare two dumps.

    python bench/parity.py dump OUT.json SET=INDEX_DIR:DATASET ... [--limit N]
    python bench/parity.py compare BEFORE.json AFTER.json

A speed change that keeps the rankings keeps the top-10 lists (ids and order) and the totals;
`compare` prints, per set and mode, the share of queries whose top 10 and whose total are identical
(issue "Fast again": at least 98 % where no ranking change was meant). Run `dump` with the old code
(a git worktree) and the new on the same indexes.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

MODES = ("keyword", "semantic", "hybrid")


def dump(out: Path, specs: list[str], limit: int | None) -> None:
    import devsets

    found: dict[str, dict] = {}
    for name, engine, queries, _ in devsets.open_sets(specs, limit):
        for mode in MODES:
            found[f"{name}/{mode}"] = {
                q["text"]: [r["total"], [x["passage_id"] for x in r["results"]]]
                for q in queries for r in [engine.search(q["text"], mode=mode, k=10)]}
        print(name, len(queries), "queries", file=sys.stderr)
    out.write_text(json.dumps(found, ensure_ascii=False), encoding="utf-8")


def compare(before: Path, after: Path) -> None:
    a, b = (json.loads(p.read_text(encoding="utf-8")) for p in (before, after))
    print(f"{'set/mode':22s} queries  same top 10  same total")
    for key in a:
        if key not in b:
            continue
        queries = [q for q in a[key] if q in b[key]]
        top = sum(a[key][q][1] == b[key][q][1] for q in queries)
        total = sum(a[key][q][0] == b[key][q][0] for q in queries)
        print(f"{key:22s} {len(queries):7d}  {top / len(queries):10.1%}  {total / len(queries):10.1%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("dump")
    d.add_argument("out", type=Path)
    d.add_argument("sets", nargs="+", metavar="SET=INDEX_DIR:DATASET")
    d.add_argument("--limit", type=int)
    c = sub.add_parser("compare")
    c.add_argument("before", type=Path)
    c.add_argument("after", type=Path)
    args = parser.parse_args()
    if args.command == "dump":
        dump(args.out, args.sets, args.limit)
    else:
        compare(args.before, args.after)


if __name__ == "__main__":
    main()
