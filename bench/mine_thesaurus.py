"""Propose official terms for colloquial ones, from the words they share contexts with.

A helper for curating `search/data/thesaurus.txt` (colloquial => official terms). It
reads the corpus, tokenises it with jieba (plus the project's user dictionary), and
builds for every word of the 30k most frequent a context vector: how often each other
word stands within +-5 positions of it, weighted by positive pointwise mutual
information (PPMI, with the usual 0.75 smoothing of the context distribution). For
each term asked about it prints the corpus words whose vectors are nearest by cosine.

A term missing from the vocabulary (most colloquial phrases: 乱停车, 遛狗不拴绳) is split
into jieba words and stands for the sum of its known words' vectors; the words of the
term are left out of its own neighbour list. The neighbours are candidates only: they
share contexts (the same sentences talk about them), which finds official synonyms
(违章停车 ~ 乱停乱放) but also topical neighbours and antonyms. Check each by reading.

Usage:
    python bench/mine_thesaurus.py                      # every left-hand term of the thesaurus
    python bench/mine_thesaurus.py 乱停车 看病贵         # just these terms
    python bench/mine_thesaurus.py --corpus corpus --corpus my.jsonl --top 20 路灯不亮

Corpora: folders (their *.txt and *.jsonl files), .txt files (the whole file is one
text) and .jsonl files (the "text" field of each line). By default /work/main/corpus
and the gov-reports JSONL. Text is normalised to simplified script as the engine does.
Cost: jieba takes ~15 s over the default 2.3 M characters; the tokens are cached in the
temp folder (keyed by the files' sizes and times), so later runs take a few seconds.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

import numpy as np
from scipy import sparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_CORPORA = [ROOT / "corpus", Path("/work/shared/data/gov-reports/gov_reports.jsonl")]
DEFAULT_THESAURUS = ROOT / "search" / "data" / "thesaurus.txt"
WORD = re.compile(r"[0-9a-z\u3400-\u4dbf\u4e00-\u9fff]")
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")


def normalise(text: str) -> str:
    """The engine's normalisation (simplified script, half-width, lower case) when importable."""
    try:
        from indexer.text import normalise as norm
    except ImportError:  # outside the project: leave the text as it is
        return text.lower()
    return norm(text)


def read_texts(paths: list[Path]):
    """Yield the texts of the given folders, .txt and .jsonl files."""
    for path in paths:
        if path.is_dir():
            yield from read_texts(sorted(p for p in path.iterdir() if p.suffix in (".txt", ".jsonl")))
        elif path.suffix == ".jsonl":
            with path.open(encoding="utf-8") as fh:
                for line in fh:
                    if line.strip():
                        yield json.loads(line).get("text", "")
        elif path.is_file():
            yield path.read_text(encoding="utf-8", errors="replace")
        else:
            print(f"skipping {path}: not found", file=sys.stderr)


def tokenizer():
    """jieba with the project's user dictionary (policy terms kept whole)."""
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    tok = jieba.Tokenizer()
    tok.initialize()
    userdict = ROOT / "search" / "data" / "userdict.txt"
    if userdict.is_file():
        for line in userdict.read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                tok.add_word(line.strip())
    return tok


def stopwords() -> set[str]:
    path = ROOT / "search" / "data" / "stopwords.txt"
    if not path.is_file():
        return set()
    return {w for line in path.read_text(encoding="utf-8").splitlines() if not line.startswith("#")
            for w in line.split()}


def cached_paragraphs(paths: list[Path], tok) -> list[list[str]]:
    """`tokenise` over the corpora, kept in the temp folder so that later runs skip jieba."""
    import hashlib
    import pickle
    import tempfile

    files = []
    for path in paths:
        files += sorted(path.iterdir()) if path.is_dir() else [path]
    key = hashlib.sha1(repr([(str(f), f.stat().st_size, f.stat().st_mtime) for f in files if f.exists()]).encode()
                       + (ROOT / "search" / "data" / "userdict.txt").read_bytes()).hexdigest()[:16]
    cache = Path(tempfile.gettempdir()) / f"mine_thesaurus_{key}.pkl"
    if cache.is_file():
        return pickle.loads(cache.read_bytes())
    paras = tokenise(read_texts(paths), tok)
    cache.write_bytes(pickle.dumps(paras))
    return paras


def tokenise(texts, tok) -> list[list[str]]:
    """One token list per paragraph (windows do not cross paragraphs); punctuation dropped."""
    paras = []
    for text in texts:
        for para in normalise(text).split("\n"):
            words = [w for w in tok.lcut(para) if WORD.search(w)]
            if words:
                paras.append(words)
    return paras


def ppmi_matrix(paras: list[list[str]], vocab_size: int, window: int, min_count: int):
    """(vocabulary, row-normalised PPMI matrix) over the vocab_size most frequent words."""
    stop = stopwords()
    freq = Counter(w for p in paras for w in p)
    vocab = [w for w, n in freq.most_common() if n >= min_count and w not in stop][:vocab_size]
    index = {w: i for i, w in enumerate(vocab)}
    rows, cols = [], []
    for para in paras:
        ids = np.array([index.get(w, -1) for w in para], dtype=np.int64)
        for k in range(1, window + 1):
            if len(ids) <= k:
                break
            a, b = ids[:-k], ids[k:]
            keep = (a >= 0) & (b >= 0)
            rows += [a[keep], b[keep]]
            cols += [b[keep], a[keep]]
    r, c = np.concatenate(rows), np.concatenate(cols)
    n = len(vocab)
    co = sparse.coo_matrix((np.ones(len(r), dtype=np.float64), (r, c)), shape=(n, n)).tocsr()
    co.sum_duplicates()
    total = co.sum()
    row_sum = np.asarray(co.sum(axis=1)).ravel()
    ctx = np.asarray(co.sum(axis=0)).ravel() ** 0.75
    ctx_p = ctx / ctx.sum()
    co = co.tocoo()
    pmi = np.log((co.data / total) / ((row_sum[co.row] / total) * ctx_p[co.col]))
    keep = pmi > 0
    m = sparse.csr_matrix((pmi[keep], (co.row[keep], co.col[keep])), shape=(n, n))
    norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return vocab, index, sparse.diags(1.0 / norms) @ m, freq


def thesaurus_terms(path: Path) -> list[tuple[str, list[str]]]:
    """(left term, right terms) of each left term in a thesaurus file."""
    out = []
    if not path.is_file():
        return out
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        left, arrow, right = line.partition("=>")
        if not arrow:
            continue
        rights = [t.strip() for t in re.split(r"[,，、]", right) if t.strip()]
        out += [(t.strip(), rights) for t in re.split(r"[,，、]", left) if t.strip()]
    return out


def term_parts(term: str, tok, index: dict[str, int]) -> list[str]:
    """Vocabulary words standing for a term the vocabulary lacks.

    jieba's words of the term, plus every longer substring the vocabulary knows (jieba cuts
    路灯不亮 as 路 / 灯不亮, yet 路灯 is a corpus word), keeping the maximal ones. Single
    characters (乱, 狗) only when no longer word is found, and never the 300 commonest.
    """
    found = {w for w in tok.lcut(term) + list(tok.cut_for_search(term)) if w in index and len(w) > 1}
    found |= {term[i:j] for i in range(len(term)) for j in range(i + 2, len(term) + 1) if term[i:j] in index}
    parts = [w for w in found if not any(w != o and w in o for o in found)]
    if not parts:
        parts = [ch for ch in dict.fromkeys(term) if ch in index and index[ch] >= 300]
    return sorted(parts, key=term.find)


def neighbours(term: str, tok, vocab, index, m, top: int) -> tuple[list[str], list[tuple[str, float]]]:
    """(the words standing for the term, its top nearest corpus words by cosine)."""
    term = normalise(term)
    if term in index:
        parts = [term]
    else:
        parts = term_parts(term, tok, index)
    if not parts:
        return [], []
    vec = m[[index[w] for w in parts]].sum(axis=0)
    vec = np.asarray(vec).ravel()
    norm = np.linalg.norm(vec)
    if norm == 0:
        return parts, []
    sims = m @ (vec / norm)
    order = np.argsort(-sims)
    skip = set(parts) | {term}
    found = []
    for i in order:
        w = vocab[i]
        if sims[i] <= 0 or len(found) >= top:
            break
        if w in skip or len(w) < 2 or not CJK.search(w):
            continue
        found.append((w, float(sims[i])))
    return parts, found


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("terms", nargs="*", help="colloquial terms (default: every left term of the thesaurus)")
    ap.add_argument("--corpus", action="append", type=Path, help="folder, .txt or .jsonl (repeatable)")
    ap.add_argument("--thesaurus", type=Path, default=DEFAULT_THESAURUS)
    ap.add_argument("--top", type=int, default=15)
    ap.add_argument("--window", type=int, default=5)
    ap.add_argument("--vocab", type=int, default=30000, help="most frequent words kept")
    ap.add_argument("--min-count", type=int, default=3)
    ap.add_argument("--no-cache", action="store_true", help="re-tokenise instead of using the cached tokens")
    args = ap.parse_args(argv)

    tok = tokenizer()
    paths = args.corpus or DEFAULT_CORPORA
    paras = tokenise(read_texts(paths), tok) if args.no_cache else cached_paragraphs(paths, tok)
    vocab, index, m, freq = ppmi_matrix(paras, args.vocab, args.window, args.min_count)
    print(f"# {sum(map(len, paras))} tokens, {len(vocab)} words in the vocabulary", file=sys.stderr)

    if args.terms:
        items = [(t, []) for t in args.terms]
    else:
        items = thesaurus_terms(args.thesaurus)
    for term, current in items:
        parts, found = neighbours(term, tok, vocab, index, m, args.top)
        if not parts:
            print(f"{term}\t(no word of it in the vocabulary)")
            continue
        shown = " ".join(f"{w}{'*' if w in current else ''}:{s:.2f}({freq[w]})" for w, s in found)
        via = "" if parts == [normalise(term)] else f" [via {'+'.join(parts)}]"
        print(f"{term}{via}\t{shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
