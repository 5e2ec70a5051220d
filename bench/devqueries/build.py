"""Build the substring judgments for the hand-written dev query sets.

    python bench/devqueries/build.py [--gov PATH_TO_gov_reports.jsonl]

Reads seeds_more_spec.py and seeds_extra_spec.py (units "NNN:L" over corpus/*.txt) and
gov_spec.py and gov_more_spec.py (units "gov:<id>:L" over the gov reports JSONL) and writes
seeds-more.jsonl, seeds-extra.jsonl, gov.jsonl and gov-more.jsonl next to this file, one
line per query in the format of
/work/shared/eval/seeds-dev-queries.jsonl:
    {"_id", "text", "kind", "relevant": [{"unit", "windows"}]}
Exits with an error if a unit points outside its file, at an empty line, or at a line
that normalises to nothing (it could never be judged).
"""
import argparse
import json
import pathlib
import re
import runpy
import sys

import opencc

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CORPUS = ROOT / 'corpus'
GOV_DEFAULT = pathlib.Path('/work/shared/data/gov-reports/gov_reports.jsonl')
KINDS = {'initiative', 'semantic', 'phrase', 'traditional'}

# --- normalise() and windows() copied verbatim from /work/shared/eval/seedjudge.py ---
_cc = opencc.OpenCC('t2s')
_PINYIN = re.compile(r'\([a-zāáǎàēéěèīíǐìōóǒòūúǔùüǖǘǚǜńňḿ]+\)')
_KEEP = re.compile(r'[^\u4e00-\u9fff0-9A-Za-z]')


def normalise(text):
    return _KEEP.sub('', _cc.convert(_PINYIN.sub('', text))).lower()


_ENUM = re.compile(r'^\s*[(（]?(?:[一二三四五六七八九十]+|\d+)[)）、.．:：]\s*')


def windows(line, size=10, step=60):
    n = normalise(_ENUM.sub('', line.strip()))
    if len(n) <= size:
        return [n] if n else []
    return [n[i:i + size] for i in range(0, len(n) - size + 1, step)]
# --- end of copy ---


def load_seed_lines():
    # same line splitting as seedjudge.py: str.splitlines(), keyed by the 3-char prefix
    return {p.name[:3]: p.read_text(encoding='utf-8').splitlines()
            for p in CORPUS.glob('*.txt')}


def load_gov_lines(path):
    docs = {}
    with open(path, encoding='utf-8') as f:
        for raw in f:
            if raw.strip():
                d = json.loads(raw)
                docs[d['id']] = d['text'].split('\n')
    return docs


def seed_line(files, unit):
    f, ln = unit.split(':')
    return files[f], int(ln)


def gov_line(docs, unit):
    prefix, rest = unit.split(':', 1)
    if prefix != 'gov':
        raise KeyError(unit)
    doc_id, ln = rest.rsplit(':', 1)
    return docs[doc_id], int(ln)


def build(spec_path, out_path, lookup):
    spec = runpy.run_path(str(spec_path))['QUERIES']
    errors, seen = [], set()
    rows = []
    for qid, text, kind, units in spec:
        if qid in seen:
            errors.append(f'{qid}: duplicate query id')
        seen.add(qid)
        if kind not in KINDS:
            errors.append(f'{qid}: unknown kind {kind!r}')
        if not units:
            errors.append(f'{qid}: no relevant units')
        if len(set(units)) != len(units):
            errors.append(f'{qid}: duplicate units')
        rel = []
        for unit in units:
            try:
                lines, ln = lookup(unit)
            except (KeyError, ValueError):
                errors.append(f'{qid}: unknown file/document in unit {unit!r}')
                continue
            if not 1 <= ln <= len(lines):
                errors.append(f'{qid}: unit {unit} out of range (1..{len(lines)})')
                continue
            line = lines[ln - 1]
            w = windows(line)
            if not line.strip() or not w:
                errors.append(f'{qid}: unit {unit} is an empty line {line!r}')
                continue
            rel.append({'unit': unit, 'windows': w})
        rows.append({'_id': qid, 'text': text, 'kind': kind, 'relevant': rel})
    if errors:
        sys.exit(f'{spec_path.name}: {len(errors)} error(s):\n  ' + '\n  '.join(errors))
    with open(out_path, 'w', encoding='utf-8') as out:
        for r in rows:
            out.write(json.dumps(r, ensure_ascii=False) + '\n')
    print(f'wrote {out_path} ({len(rows)} queries, '
          f'{sum(len(r["relevant"]) for r in rows)} relevant units)')


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--gov', type=pathlib.Path, default=GOV_DEFAULT,
                    help=f'gov reports JSONL (default {GOV_DEFAULT})')
    args = ap.parse_args()
    files = load_seed_lines()
    if not files:
        sys.exit(f'no corpus files in {CORPUS}')
    build(HERE / 'seeds_more_spec.py', HERE / 'seeds-more.jsonl',
          lambda u: seed_line(files, u))
    build(HERE / 'seeds_extra_spec.py', HERE / 'seeds-extra.jsonl',
          lambda u: seed_line(files, u))
    docs = load_gov_lines(args.gov)
    build(HERE / 'gov_spec.py', HERE / 'gov.jsonl', lambda u: gov_line(docs, u))
    build(HERE / 'gov_more_spec.py', HERE / 'gov-more.jsonl', lambda u: gov_line(docs, u))


if __name__ == '__main__':
    main()
