"""Precision of the inferred report year and issuer (indexer/metadata.py) against hand labels.

    .venv/bin/python bench/metadata_precision.py --corpus-index DIR [--labels PATH] [--gov-reports PATH]

DIR: an index of corpus/ (`report-search index corpus --index-dir DIR`); its active build's passage
store holds the corpus documents (`--corpus-store PATH` names a passages.sqlite instead).

Labels: bench/metadata/labels.jsonl (see bench/metadata/README.md): 134 records of the gov-reports
JSONL by `id`, 18 corpus documents by `doc_id` in a passage store (text = the document's passages
in order, joined by newlines, as the indexer joins them).

Two runs:
- `body only`: every labelled report, `extract(None, text, {})`; every value found is inferred.
- `title, no fields` (gov reports): `extract(title, text, {})`, as the indexer treats a report
  with its title but no JSONL fields; only the fields whose source is `inferred` count, and
  coverage is over the reports whose field the title did not declare.

Per field: reports considered, values inferred, how many are right, precision (right / inferred),
coverage (inferred / considered) and recall (right / considered reports whose label has a value).
A label of null makes any inferred value wrong. Year: equal. Issuer: equal after `normalise`, or
the inferred name equals the label without its leading region name (a name ending in 省 / 市 /
自治区, e.g. 宁波市妇联 -> 市妇联 or 妇联, 宁夏回族自治区人民政府 -> 自治区人民政府); nothing looser.
"""
from __future__ import annotations

import argparse
import json
import re
import sqlite3
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from indexer.metadata import INFERRED, extract  # noqa: E402
from indexer.text import normalise  # noqa: E402

LABELS = ROOT / "bench" / "metadata" / "labels.jsonl"
GOV_REPORTS = ROOT.parent / "shared" / "data" / "gov-reports" / "gov_reports.jsonl"
FIELDS = ("year", "issuer")

# A leading region name: a place name (no 省/市/区/县 inside it) and its 省 / 市 / 自治区 suffix.
_LEADING_REGION = re.compile(r"^([\u4e00-\u9fff]{2,7}?)(省|市|壮族自治区|回族自治区|维吾尔自治区|自治区)")
_NOT_IN_NAME = re.compile(r"[省市区县]")


def issuer_matches(inferred: str | None, label: str | None) -> bool:
    if inferred is None or label is None:
        return False
    found, truth = normalise(inferred), normalise(label)
    if found == truth:
        return True
    m = _LEADING_REGION.match(truth)
    if not m or _NOT_IN_NAME.search(m.group(1)):
        return False
    rest = truth[m.end():]
    # 宁波市妇联 -> 妇联 or 市妇联; 宁夏回族自治区人民政府 -> 人民政府, 自治区人民政府 or 回族自治区人民政府
    kept = {rest, m.group(2) + rest, ("自治区" + rest) if m.group(2).endswith("自治区") else rest}
    return bool(rest) and found in kept


def matches(field: str, inferred, label) -> bool:
    if inferred is None or label is None:
        return False
    return inferred == label if field == "year" else issuer_matches(inferred, label)


def load_reports(labels_path: Path, gov_path: Path, store_path: Path) -> list[dict]:
    """Each labelled report: set, id, title, text, and its labels."""
    labels = [json.loads(line) for line in open(labels_path, encoding="utf-8") if line.strip()]
    gov = {}
    with open(gov_path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                row = json.loads(line)
                gov[row["id"]] = row
    db = sqlite3.connect(f"file:{store_path}?mode=ro", uri=True)
    out = []
    for label in labels:
        if label["set"] == "gov":
            row = gov[label["id"]]
            title, text = row.get("title"), row["text"]
        else:
            found = db.execute("SELECT title FROM documents WHERE doc_id = ?", (label["id"],)).fetchone()
            if found is None:
                raise SystemExit(f"{label['id']} is not in {store_path}")
            title = found[0]
            text = "\n".join(t for (t,) in db.execute(
                "SELECT text FROM passages WHERE doc_id = ? ORDER BY position", (label["id"],)))
        out.append({**label, "label_title": label.get("title"), "title": title, "text": text})
    db.close()
    return out


def measure(reports: list[dict], with_title: bool) -> dict:
    """Per field: considered, inferred, right, labelled (considered reports whose label has a value),
    and the wrong answers."""
    stats = {f: {"considered": 0, "inferred": 0, "right": 0, "labelled": 0, "wrong": []} for f in FIELDS}
    for report in reports:
        meta = extract(report["title"] if with_title else None, report["text"], {})
        for f in FIELDS:
            source = meta.sources.get(f)
            if source is not None and source != INFERRED:
                continue  # declared by the title: not an inference
            s = stats[f]
            s["considered"] += 1
            s["labelled"] += report[f] is not None
            value = getattr(meta, f)
            if value is None:
                continue
            s["inferred"] += 1
            if matches(f, value, report[f]):
                s["right"] += 1
            else:
                s["wrong"].append((report["set"], report["id"], value, report[f]))
    return stats


def _ratio(a: int, b: int) -> str:
    return f"{a / b:.3f}" if b else "  -  "


def table(runs: list[tuple[str, dict]]) -> str:
    head = f"{'run':<32}{'field':<8}{'reports':>8}{'inferred':>10}{'right':>7}{'precision':>11}" \
           f"{'coverage':>10}{'recall':>8}"
    lines = [head, "-" * len(head)]
    for name, stats in runs:
        for f in FIELDS:
            s = stats[f]
            lines.append(f"{name:<32}{f:<8}{s['considered']:>8}{s['inferred']:>10}{s['right']:>7}"
                         f"{_ratio(s['right'], s['inferred']):>11}{_ratio(s['inferred'], s['considered']):>10}"
                         f"{_ratio(s['right'], s['labelled']):>8}")
    return "\n".join(lines)


def corpus_store(parser: argparse.ArgumentParser, args) -> Path:
    """The passage store of corpus/: named, or the active build's of an index directory."""
    if args.corpus_store is not None:
        store = args.corpus_store
    elif args.corpus_index is not None:
        from indexer.layout import IndexDir, IndexUnavailable

        try:
            directory = IndexDir(args.corpus_index)
            store = directory.active_build(directory.read_manifest()).passages
        except (IndexUnavailable, OSError) as exc:
            parser.error(f"--corpus-index {args.corpus_index}: {exc}")
    else:
        parser.error("--corpus-index DIR is required: an index of corpus/ (report-search index corpus --index-dir DIR)")
    if not Path(store).is_file():
        parser.error(f"no passage store at {store}")
    return Path(store)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus-index", type=Path, help="an index directory of corpus/")
    parser.add_argument("--corpus-store", type=Path, help="a passages.sqlite of corpus/ (instead)")
    parser.add_argument("--labels", type=Path, default=LABELS)
    parser.add_argument("--gov-reports", type=Path, default=GOV_REPORTS)
    args = parser.parse_args(argv)
    reports = load_reports(args.labels, args.gov_reports, corpus_store(parser, args))
    gov = [r for r in reports if r["set"] == "gov"]
    runs = [(f"body only ({len(reports)})", measure(reports, with_title=False)),
            (f"gov, title, no fields ({len(gov)})", measure(gov, with_title=True))]
    print(table(runs))
    for name, stats in runs:
        for f in FIELDS:
            wrong = stats[f]["wrong"]
            print(f"\n{name}, {f}: {len(wrong)} wrong" + (":" if wrong else ""))
            for set_, id_, value, label in wrong:
                print(f"  {set_:<7}{id_:<26}inferred {value!s:<16} label {label}")


if __name__ == "__main__":
    main()
