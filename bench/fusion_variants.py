"""How far can hybrid fusion go with the lists we have? A measurement, not a feature (issue 11).

Usage: python bench/fusion_variants.py SET=INDEX_DIR:DATASET ... [--only oracle,document,depth,region]
           [--backend embedded]

On the default settings, nDCG@10 in hybrid mode per set and the mean for:
  oracle    each query fused with whichever semantic weight (0 … 5) suits it best: the bound of
            any rule that picks a weight per query, and how well simple query features (list
            agreement, score gaps, query length) predict the better weight (correlation per set);
  document  a passage's fused score plus lambda x the best fused scores of other passages of its
            report (a report that matches in several places lifts each of them);
  depth     min-max normalisation over each list's top d instead of its top 100 (lower scores
            clipped to 0);
  region    passages of reports from the region the query names (indexer.metadata.find_region)
            raised by beta (their province's by beta/2);
  agreement the fused score plus w x the product of a passage's two normalised scores (passages
            both lists rank high gain more than the sum gives them);
  prf       dense pseudo-relevance feedback (Rocchio): the first model's query vector plus
            beta x the mean vector of the hybrid top m, searched again, then fused as usual
            (embedded backend only).
Retriever lists are computed once per query and reused across variants.
"""
from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from indexer import metadata  # noqa: E402
from indexer.store import doc_id_of  # noqa: E402
from indexer.text import normalise  # noqa: E402
from search import fusion  # noqa: E402
from search import engine as engine_module  # noqa: E402
from search.engine import Engine, SearchSettings  # noqa: E402
from search.hits import Filters  # noqa: E402

from tune import load_sets, per_query_ndcg  # noqa: E402


class Cached:
    """A retriever whose keyword and semantic lists are computed once per query."""

    def __init__(self, inner):
        self.inner, self.lists = inner, {}
        self.feedback = None  # prf: k -> the first model's list for the current query

    def semantic(self, parsed, k, filters, second=False):
        if self.feedback is not None and not second:
            return self.feedback(k)
        return self._once(("semantic", repr(parsed), k, second),
                          lambda: self.inner.semantic(parsed, k, filters, second=second))

    def keyword(self, parsed, k, filters):
        return self._once(("keyword", repr(parsed), k), lambda: self.inner.keyword(parsed, k, filters))

    def _once(self, key, compute):
        if key not in self.lists:
            self.lists[key] = compute()
        return self.lists[key]

    def __getattr__(self, name):
        return getattr(self.inner, name)


def with_document_bonus(fused: list, lam: float, top: int) -> list:
    by_report: dict[str, list[float]] = {}
    for f in fused:
        by_report.setdefault(doc_id_of(f.passage_id), []).append(f.score)
    out = []
    for f in fused:
        others = sorted(by_report[doc_id_of(f.passage_id)], reverse=True)
        others.remove(f.score)
        out.append(fusion.Fused(f.passage_id, f.score + lam * sum(others[:top]), f.sources))
    return sorted(out, key=lambda f: (-f.score, f.passage_id))


def with_agreement(fused: list, lists, w: float) -> list:
    kw, sem = fusion.normalised_scores(lists["keyword"]), fusion.normalised_scores(lists.get("semantic", []))
    scores = {f.passage_id: f.score + w * kw.get(f.passage_id, 0.0) * sem.get(f.passage_id, 0.0) for f in fused}
    return fusion._ordered(scores, {f.passage_id: f.sources for f in fused})


def depth_interpolate(lists, weights, depth: int) -> list:
    scores, sources = {}, {}
    for name, hits in lists.items():
        values = [h.score for h in hits]
        hi, lo = (values[0], values[min(depth, len(values)) - 1]) if values else (0.0, 0.0)
        for rank, hit in enumerate(hits, 1):
            norm = 1.0 if hi - lo <= 1e-12 else max(0.0, (hit.score - lo) / (hi - lo))
            scores[hit.passage_id] = scores.get(hit.passage_id, 0.0) + weights.get(name, 1.0) * norm
            sources.setdefault(hit.passage_id, {})[name] = (rank, hit.score)
    return fusion._ordered(scores, sources)


class Variant:
    """Swaps the engine's hybrid fusion for a variant (the semantic side's own fusion untouched)."""

    def __init__(self):
        self.plain = fusion.interpolate
        self.hybrid = None  # (lists, weights) -> fused
        self.query = None
        engine_module.fusion = self  # the engine reads fusion.interpolate / fusion.rrf from here

    def interpolate(self, lists, weights=None):
        if self.hybrid is None or "keyword" not in lists:
            return self.plain(lists, weights)
        return self.hybrid(lists, weights or {})

    def __getattr__(self, name):
        return getattr(fusion, name)


def figures(sets, settings=SearchSettings()) -> dict[str, list[float]]:
    out = {}
    for name, engine, queries, judge in sets:
        engine.settings = settings
        out[name] = per_query_ndcg(engine, queries, judge, "hybrid")
    return out


def show(label: str, per: dict[str, list[float]]) -> None:
    means = {name: statistics.mean(scores) for name, scores in per.items()}
    print(f"{label:34s} mean {statistics.mean(means.values()):.4f}  "
          + "  ".join(f"{name} {v:.4f}" for name, v in means.items()), flush=True)


def query_features(engine: Engine, text: str) -> dict[str, float]:
    parsed = engine.retrieval.parse(text)
    kw = engine.retrieval.keyword(parsed, 100, Filters()).hits
    sem = engine.retrieval.semantic(parsed, 100, Filters()).hits
    top_kw, top_sem = [h.passage_id for h in kw[:10]], [h.passage_id for h in sem[:10]]

    def gap(hits):
        return (hits[0].score - hits[min(9, len(hits) - 1)].score) / hits[0].score if hits and hits[0].score else 0.0
    return {"top-10 overlap": len(set(top_kw) & set(top_sem)) / 10, "keyword gap": gap(kw),
            "semantic gap": gap(sem), "query length": len(text),
            "keyword best in semantic top 10": float(bool(top_kw) and top_kw[0] in top_sem)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("sets", nargs="+", help="NAME=INDEX_DIR:DATASET")
    ap.add_argument("--only", default="oracle,document,depth,region,agreement,prf")
    ap.add_argument("--backend", default=None, help="embedded or milvus (default: what each index was built for)")
    args = ap.parse_args()
    parts = args.only.split(",")
    sets = load_sets(args.sets, backend=args.backend)
    for _, engine, _, _ in sets:
        if not isinstance(engine.retrieval, Cached):
            engine.retrieval = Cached(engine.retrieval)
    variant = Variant()
    base = figures(sets)
    show("default", base)
    if "oracle" in parts:
        weights = [0.0, 0.5, 1.0, 1.5, 2.5, 5.0]
        runs = {w: figures(sets, SearchSettings(semantic_weight=w)) for w in weights}
        for w in weights:
            show(f"semantic weight {w}", runs[w])
        show("oracle (best weight per query)",
             {name: [max(runs[w][name][i] for w in weights) for i in range(len(base[name]))] for name in base})
        print("correlation of each feature with (nDCG at weight 2.5 - at 0.5), per set:")
        for name, engine, queries, _ in sets:
            rows = [query_features(engine, q["text"]) for q in queries]
            gain = np.array([hi - lo for hi, lo in zip(runs[2.5][name], runs[0.5][name])])
            line = []
            for feature in rows[0]:
                x = np.array([r[feature] for r in rows])
                c = np.corrcoef(x, gain)[0, 1] if x.std() > 0 and gain.std() > 0 else float("nan")
                line.append(f"{feature} {c:+.2f}")
            print(f"  {name}: " + ", ".join(line))
    if "document" in parts:
        for lam, top in [(0.05, 1), (0.1, 1), (0.2, 1), (0.05, 3), (0.1, 3)]:
            variant.hybrid = lambda lists, w, lam=lam, top=top: with_document_bonus(variant.plain(lists, w), lam, top)
            show(f"report bonus {lam} x best {top}", figures(sets))
    if "depth" in parts:
        for depth in [50, 30, 20, 10]:
            variant.hybrid = lambda lists, w, depth=depth: depth_interpolate(lists, w, depth)
            show(f"normalised over top {depth}", figures(sets))
    if "region" in parts:
        for name, engine, queries, _ in sets:
            named = sum(metadata.find_region(normalise(q["text"])) != (None, None) for q in queries)
            print(f"  {name}: {named} of {len(queries)} queries name a region")
        for beta in [0.1, 0.3, 0.5]:
            show(f"region boost {beta}", region_figures(sets, variant, beta))
    if "agreement" in parts:
        for w in [-1.0, 1.0, 2.0]:
            variant.hybrid = lambda lists, weights, w=w: with_agreement(variant.plain(lists, weights), lists, w)
            show(f"agreement {w}", figures(sets))
    variant.hybrid = None
    if "prf" in parts:
        for m, beta in [(3, 0.5), (5, 0.5), (3, 1.0)]:
            show(f"dense feedback: top {m}, beta {beta}", prf_figures(sets, m, beta))


def prf_figures(sets, m: int, beta: float) -> dict[str, list[float]]:
    out = {}
    for name, engine, queries, judge in sets:
        engine.settings = SearchSettings()
        retrieval = engine.retrieval
        searcher = retrieval.inner.searcher("first")
        scores = []
        for q in queries:
            parsed = retrieval.parse(q["text"])
            head, _ = engine._rank(parsed, "hybrid", 10, Filters())
            rows = [searcher.row[f.passage_id] for f in head[:m] if f.passage_id in searcher.row]
            if rows:
                vector = searcher.embed_query(normalise(parsed.semantic_text)) + beta * searcher.matrix[rows].mean(0)
                vector = (vector / np.linalg.norm(vector)).astype(np.float32)
                allowed = retrieval.inner._allowed(parsed, Filters())
                retrieval.feedback = lambda k, v=vector, a=allowed: searcher.search_vector(v, k, a)
            scores += per_query_ndcg(engine, [q], judge, "hybrid")
            retrieval.feedback = None
        out[name] = scores
    return out


def region_figures(sets, variant: Variant, beta: float) -> dict[str, list[float]]:
    out = {}
    for name, engine, queries, judge in sets:
        engine.settings = SearchSettings()
        place = {row[0]: (row[1], row[2]) for row in
                 engine.store.db.execute("SELECT doc_id, region, province FROM documents")}
        scores = []
        for q in queries:
            city, province = metadata.find_region(normalise(q["text"]))

            def boosted(lists, w, city=city, province=province):
                fused = variant.plain(lists, w)
                if city is None:
                    return fused
                out_ = []
                for f in fused:
                    region, prov = place.get(doc_id_of(f.passage_id), (None, None))
                    bonus = beta if region == city else beta / 2 if prov and prov == province else 0.0
                    out_.append(fusion.Fused(f.passage_id, f.score + bonus, f.sources))
                return sorted(out_, key=lambda f: (-f.score, f.passage_id))
            variant.hybrid = boosted
            scores += per_query_ndcg(engine, [q], judge, "hybrid")
        out[name] = scores
    return out


if __name__ == "__main__":
    main()
