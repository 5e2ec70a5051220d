"""Fusion and collapse are pure functions: checked on hand-written lists."""
from __future__ import annotations

import numpy as np

from search.collapse import collapse
from search.fusion import Fused, interpolate, normalised_scores, ranked_after, rrf
from search.hits import Hit
from search.matching import lifted


def hits(*pairs):
    return [Hit(pid, score) for pid, score in pairs]


def test_rrf_sums_weighted_reciprocal_ranks():
    fused = rrf({"keyword": hits(("a", 9), ("b", 5)), "semantic": hits(("b", 0.9), ("c", 0.8))}, k=60)
    scores = {f.passage_id: f.score for f in fused}
    assert [f.passage_id for f in fused] == ["b", "a", "c"]
    assert abs(scores["b"] - (1 / 62 + 1 / 61)) < 1e-12
    assert fused[0].sources == {"keyword": (2, 5), "semantic": (1, 0.9)}
    weighted = rrf({"keyword": hits(("a", 1)), "semantic": hits(("c", 1))}, {"keyword": 1.0, "semantic": 2.0})
    assert weighted[0].passage_id == "c"


def test_min_max_normalisation_is_guarded_against_equal_scores():
    assert normalised_scores(hits(("a", 3.0), ("b", 3.0))) == {"a": 1.0, "b": 1.0}
    assert normalised_scores(hits(("a", 4.0), ("b", 2.0), ("c", 3.0))) == {"a": 1.0, "b": 0.0, "c": 0.5}
    fused = interpolate({"keyword": hits(("a", 4), ("b", 2)), "semantic": hits(("b", 0.5))},
                        {"keyword": 1.0, "semantic": 1.0})
    # a: 1.0 + 0; b: 0.0 + 1.0 (a one-item list normalises to 1); ties break on the id
    assert [(f.passage_id, f.score) for f in fused] == [("a", 1.0), ("b", 1.0)]


def test_collapse_folds_identical_and_near_identical_texts():
    ranked = [Fused("a", 3), Fused("b", 2), Fused("c", 1)]
    texts = {"a": "加强组织领导,健全工作网络。", "b": "加强组织领导，健全工作网络", "c": "完全不同的一段文字内容"}
    out = collapse(ranked, texts)
    assert [f.passage_id for f in out] == ["a", "c"]
    assert out[0].duplicates == ("b",)


def test_deeper_ranks_come_after_the_head_with_scores_below_it():
    head = [Fused("a", 2.0), Fused("b", 0.5)]
    deeper = [Fused("c", 1.5), Fused("a", 1.0), Fused("d", 0.75)]  # fused over longer lists
    out = ranked_after(head, deeper)
    assert [f.passage_id for f in out] == ["a", "b", "c", "d"]
    assert [f.score for f in out] == [2.0, 0.5, 0.5, 0.25]  # scaled by 0.5 / 1.5: the order holds
    assert ranked_after(head, [Fused("e", 0.1)])[-1].score == 0.1  # already below: unchanged
    assert ranked_after([], deeper) == deeper and ranked_after(head, []) == head
    # A head ending below zero (scores that are not min-max sums): shifted, never reversed.
    out = ranked_after([Fused("a", 1.0), Fused("b", -0.5)], [Fused("c", 0.5), Fused("d", -1.0)])
    assert [f.score for f in out] == [1.0, -0.5, -0.5, -2.0]


def test_the_builds_near_duplicate_pairs_collapse_as_comparing_the_texts_does():
    """indexer/duplicates.py finds every pair once at build time; collapsing by look-up keeps the same
    passages, folded the same way, as comparing the texts of a ranked list (identical, near, distinct)."""
    from indexer.duplicates import pairs
    from search.collapse import collapse_known

    texts = {"a": "加强组织领导,健全工作网络。", "b": "完全不同的一段文字内容", "c": "加强组织领导，健全工作网络",
             "d": "加强组织领导，健全工作网络体系", "e": "", "f": "", "g": "完全不同的一段文字内容。",
             "h": "一二三四五六七八九十甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉戌亥", 
             "i": "一二三四五六七八九十甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉戌"}
    ids = list(texts)
    found = pairs([texts[i] for i in ids])
    assert found[ids.index("a")] == [ids.index("c")] and found[ids.index("h")] == [ids.index("i")]
    neighbours = {pid: [ids[r] for r in rows] for pid, rows in zip(ids, found)}
    for order in (ids, ids[::-1], ["d", "c", "a", "i", "e", "b", "h", "g", "f"]):
        ranked = [Fused(pid, 1.0) for pid in order]
        assert collapse_known(ranked, neighbours.__getitem__) == collapse(ranked, texts)


def test_the_floors_rise_with_a_generic_querys_background_only():
    similarity = np.array([0.88, 0.86, -np.inf])
    assert lifted(0.87, 0.855, 0.84, 0.02, similarity, 1000) == (0.87, 0.855)  # a specific query: as tuned
    floor, overlap = lifted(0.87, 0.855, 0.867, 0.02, similarity, 1000)  # `工作总结` over work summaries
    assert np.allclose(floor[:2], 0.887, atol=1e-4) and np.allclose(overlap[:2], 0.872, atol=1e-4)
    assert floor[0] < floor[1]  # the passage itself is left out of its background
    assert lifted(0.87, 0.855, 0.9, 0.02, similarity[:1], 1) == (0.87, 0.855)  # one passage: no background
    floor, _ = lifted(0.87, 0.855, 0.88, 0.02, np.array([0.9, 0.86]), 2)  # two: each one's is the other's
    assert np.allclose(floor, [0.88, 0.92])
