"""Accuracy of the section roles (indexer/sections.py) against hand labels.

    python bench/sections.py [LABELS.jsonl ...]     (default: tests/data/section_labels.jsonl)

A labels file holds whole reports, one passage per line in document order: doc_id, doc_title,
year, heading_path, text and label (a role code, or null for a passage not labelled), and `split`:
`tuned` (the rules were written looking at these) or `heldout` (labelled afterwards, by other
hands). Prints accuracy overall, per split and per code (recall: of the passages labelled X, the
share given X), the precision of each code, and the confusions.
"""
from __future__ import annotations

import collections
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from indexer.sections import ROLES, roles  # noqa: E402

DEFAULT = Path(__file__).resolve().parents[1] / "tests" / "data" / "section_labels.jsonl"


def load(paths) -> list[list[dict]]:
    """The labelled reports, each a list of its passages."""
    docs: dict[str, list[dict]] = {}
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                row = json.loads(line)
                docs.setdefault(row["doc_id"], []).append(row)
    return list(docs.values())


def pairs(docs: list[list[dict]]) -> list[tuple[str, str, dict]]:
    """(label, predicted, row) for every labelled passage."""
    out = []
    for doc in docs:
        first = doc[0]
        predicted = roles(first["doc_title"], [r["heading_path"] for r in doc], [r["text"] for r in doc],
                          first.get("year"))
        out += [(r["label"], p, r) for r, p in zip(doc, predicted) if r["label"]]
    return out


def per_code(results: list[tuple[str, str, dict]]) -> dict[str, dict]:
    """Accuracy overall and, per code, recall, precision and support."""
    gold = collections.Counter(g for g, _, _ in results)
    given = collections.Counter(p for _, p, _ in results)
    right = collections.Counter(g for g, p, _ in results if g == p)
    out = {"all": {"accuracy": sum(right.values()) / max(1, len(results)), "support": len(results)}}
    for code in ROLES:
        out[code] = {"recall": right[code] / gold[code] if gold[code] else None,
                     "precision": right[code] / given[code] if given[code] else None, "support": gold[code]}
    return out


def main(argv: list[str]) -> None:
    verbose = "-v" in argv
    paths = [a for a in argv if a != "-v"] or [DEFAULT]
    results = pairs(load(paths))
    figures = per_code(results)
    print(f"{len(results)} labelled passages: accuracy {figures['all']['accuracy']:.3f}")
    for split in sorted({r.get("split") for _, _, r in results} - {None}):
        part = per_code([x for x in results if x[2].get("split") == split])
        print(f"  {split}: {part['all']['support']} passages, accuracy {part['all']['accuracy']:.3f}; problems "
              f"{part['problems']['recall'] or 0:.3f}, plans {part['plans']['recall'] or 0:.3f}")
    fmt = lambda v: "  -  " if v is None else f"{v:.3f}"  # noqa: E731
    for code in ROLES:
        f = figures[code]
        print(f"  {code:9s} {ROLES[code]:8s} support {f['support']:4d}  recall {fmt(f['recall'])}  "
              f"precision {fmt(f['precision'])}")
    confusions = collections.Counter((g, p) for g, p, _ in results if g != p)
    print("confusions (label -> given): " + ", ".join(f"{g}->{p} {n}" for (g, p), n in confusions.most_common()))
    if verbose:
        for g, p, r in results:
            if g != p:
                print(f"{r['passage_id']} {g}->{p} {' › '.join(r['heading_path'])[-40:]} | {r['text'][:60]}")


if __name__ == "__main__":
    main(sys.argv[1:])
