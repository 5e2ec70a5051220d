"""Learned ranking: the features of a query's candidate block, and a LightGBM lambdarank model
(LambdaMART) that orders hybrid results from them.

The engine gathers each candidate's raw signals in one pass over the block (`Signals`: the
lists' scores and ranks, each model's cosines, the wording, what the passage holds of the
query's words, its section, its report); `features` turns them into the model's matrix with
NumPy, a pure function. The model file ships in the package (search/data/ranker.txt), trained
by `bench/train_ranker.py` (fixed seeds) from the dev sets' labelled queries and queries made
from the corpora; its sidecar (ranker.json) names the models whose similarities it was trained
on: an index built with others ranks by interpolation, with a note. How much it gains, per set
and query kind, on queries it was not trained on: bench/README.md, "Learned ranking".
"""
from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from indexer.sections import ROLES

DATA = Path(__file__).resolve().parent / "data"
MODEL_FILE = DATA / "ranker.txt"
ABSENT_RANK = 1000.0  # the rank of a candidate a list did not return

SECTIONS = tuple(ROLES)  # a section role as a number (its place in a report's order)

# The candidate's own signals, as the engine gathers them (one array each, over the block).
SIGNALS = (
    "fused",  # today's score: interpolation of the lists, plus the wording boost
    "kw_rank", "kw_score",  # the keyword list's rank (ABSENT_RANK where absent) and BM25F score
    "sem_rank", "sem_score",  # the semantic list's (the two models joined)
    "content", "heading", "exact", "doctitle",  # BM25F of the user's words, per field
    "expansion",  # BM25F of the thesaurus's official terms
    "cos_own", "cos_best", "cos_second",  # first model: passage, best sentence; second model: passage
    "cos_feedback",  # first model: to the mean of the first candidates (pseudo-relevance feedback)
    "in_a_row", "near", "parts",  # wording (search/wording.py)
    "held", "held_heading", "held_title",  # share of the query's word weight held: text+heading, heading, title
    "length",  # words in the passage
    "section",  # SECTIONS index
    "duplicates",  # near-duplicates folded into it
    "report",  # the report as a number (for report-level features)
)
QUERY_SIGNALS = ("query_chars", "query_words", "query_idf", "query_expansions")

FEATURES = (
    "fused", "fused_gap", "position",
    "kw_rank", "kw_score", "kw_rel", "sem_rank", "sem_score", "sem_gap",
    "content", "heading", "exact", "doctitle", "expansion", "expansion_share",
    "cos_own", "cos_best", "cos_second", "cos_own_gap", "cos_best_gap", "cos_second_gap",
    "in_a_row", "near", "parts",
    "held", "held_heading", "held_title",
    "length", "section", "duplicates",
    "report_best_gap", "report_count", "report_rank", "report_cos_gap",
    "kw_order", "cos_own_order", "cos_best_order", "cos_second_order", "held_order",
    "cos_best_z", "cos_second_z", "cos_feedback", "cos_feedback_order",
    *QUERY_SIGNALS,
)
RANKED_WITHIN = ("kw_score", "cos_own", "cos_best", "cos_second", "held", "cos_feedback")  # → *_order: place in the block, 0 best


@dataclass(frozen=True)
class Signals:
    """A candidate block: per candidate (`SIGNALS`, arrays of one length) and per query (`QUERY_SIGNALS`)."""
    candidate: dict[str, np.ndarray]
    query: dict[str, float]


def _gap(values: np.ndarray) -> np.ndarray:
    """How far below the block's best each value is (0 for the best)."""
    return values - values.max() if len(values) else values


def _order(values: np.ndarray) -> np.ndarray:
    """Each value's place among the block's, 0 for the best (ties by position)."""
    out = np.empty(len(values))
    out[np.lexsort((np.arange(len(values)), -np.nan_to_num(values, nan=-np.inf)))] = np.arange(len(values))
    return out


def _z(values: np.ndarray) -> np.ndarray:
    """Standard scores within the block (0 where all are equal)."""
    spread = values.std() if len(values) else 0.0
    return (values - values.mean()) / spread if spread > 0 else np.zeros(len(values))


def features(block: Signals) -> np.ndarray:
    """The model's input: one row per candidate, one column per FEATURES name (float32)."""
    c = block.candidate
    n = len(c["fused"])
    kw_max = c["kw_score"].max() if n else 0.0
    bm25 = c["content"] + c["heading"] + c["exact"] + c["doctitle"]
    # report-level: the best fused score among the report's candidates, how many it has, and where
    # this one stands among them
    reports, inverse = np.unique(c["report"], return_inverse=True)
    best = np.full(len(reports), -np.inf)
    np.maximum.at(best, inverse, c["fused"])
    count = np.bincount(inverse, minlength=len(reports))
    order = np.lexsort((np.arange(n), -c["fused"]))
    seen = np.zeros(len(reports), dtype=np.int64)
    report_rank = np.zeros(n)
    for i in order:  # a few hundred candidates at most
        report_rank[i] = seen[inverse[i]]
        seen[inverse[i]] += 1
    columns = {
        "fused": c["fused"], "fused_gap": _gap(c["fused"]), "position": np.argsort(order).astype(float),
        "kw_rank": c["kw_rank"], "kw_score": c["kw_score"],
        "kw_rel": c["kw_score"] / kw_max if kw_max > 0 else np.zeros(n),
        "sem_rank": c["sem_rank"], "sem_score": c["sem_score"], "sem_gap": _gap(c["sem_score"]),
        "expansion_share": np.divide(c["expansion"], bm25 + c["expansion"],
                                     out=np.zeros(n), where=(bm25 + c["expansion"]) > 0),
        "cos_own_gap": _gap(c["cos_own"]), "cos_best_gap": _gap(c["cos_best"]),
        "cos_second_gap": _gap(c["cos_second"]),
        "report_best_gap": best[inverse] - best.max() if n else np.zeros(0),
        "report_count": count[inverse].astype(float), "report_rank": report_rank,
        "cos_best_z": _z(c["cos_best"]), "cos_second_z": _z(c["cos_second"]),
    }
    cos = np.full(len(reports), -np.inf)
    np.maximum.at(cos, inverse, c["cos_best"])
    columns["report_cos_gap"] = cos[inverse] - c["cos_best"].max() if n else np.zeros(0)
    for name in RANKED_WITHIN:
        columns[f"{name.removesuffix('_score')}_order"] = _order(c[name])
    for name in FEATURES:
        if name not in columns:
            columns[name] = (np.full(n, block.query[name]) if name in block.query else c[name])
    return np.column_stack([np.asarray(columns[name], dtype=np.float32) for name in FEATURES]) if n \
        else np.zeros((0, len(FEATURES)), dtype=np.float32)


SCALE = 0.5  # of a model score against the wording boost (cross-validated: 0.3 to 1.0 give the same figures)


def with_wording(scores: np.ndarray, matrix: np.ndarray, weight: float) -> np.ndarray:
    """SCALE x the model's scores, plus `weight` x each candidate's wording score: the wording boost
    applies after the model as it does after interpolation, so a passage holding the query's own
    wording in a row comes before scattered words (search/wording.py)."""
    if not len(scores):
        return scores
    held = matrix[:, [FEATURES.index(name) for name in ("in_a_row", "near", "parts")]].max(axis=1)
    return SCALE * scores + weight * held


class Ranker:
    """The packaged model: scores a candidate block, explains a score by its features' contributions."""

    def __init__(self, path: Path = MODEL_FILE):
        import lightgbm

        self.booster = lightgbm.Booster(model_file=str(path))
        self.meta = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        if list(self.booster.feature_name()) != list(FEATURES):
            raise ValueError(f"{path} was trained on other features: re-run bench/train_ranker.py")

    def expects(self, manifest: dict) -> str | None:
        """Why this index's similarities are not those the model was trained on; None when they are."""
        want = self.meta["models"]
        second = (manifest.get("second_encoder_spec") or {}).get("model")
        have = {"model": manifest.get("model"), "second": second, "sentences": bool(manifest.get("sentence_vectors"))}
        differing = [k for k in want if want[k] != have[k]]
        if not differing:
            return None
        return (f"learned ranking needs an index built with {want['model']}, second model {want['second']} and "
                f"sentence vectors; this one differs ({', '.join(f'{k}: {have[k]}' for k in differing)}): "
                "results are ordered by interpolation")

    def scores(self, matrix: np.ndarray) -> np.ndarray:
        return self.booster.predict(matrix, num_threads=1) if len(matrix) else np.zeros(0)

    def contributions(self, matrix: np.ndarray, top: int = 5) -> list[list[tuple[str, float]]]:
        """Per row, the `top` features that moved its score most (LightGBM's pred_contrib), largest first."""
        if not len(matrix):
            return []
        contrib = self.booster.predict(matrix, pred_contrib=True, num_threads=1)[:, :-1]
        out = []
        for row in contrib:
            best = np.argsort(-np.abs(row))[:top]
            out.append([(FEATURES[i], float(row[i])) for i in best if row[i] != 0])
        return out


class RankerUnavailable(RuntimeError):
    """The learned ranker cannot run here; the message says why and what to do."""


@functools.lru_cache(maxsize=1)
def packaged() -> Ranker:
    """The packaged model, loaded once."""
    try:
        import lightgbm  # noqa: F401
    except ImportError:
        raise RankerUnavailable("learned ranking needs LightGBM: pip install 'report-search[ranker]'; "
                                "results are ordered by interpolation") from None
    if not MODEL_FILE.exists():
        raise RankerUnavailable("this installation ships no learned ranker (search/data/ranker.txt): "
                                "results are ordered by interpolation")
    return Ranker()
