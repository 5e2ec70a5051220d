"""The ranking settings and their defaults; the measurements behind each default are in
bench/README.md ("Settings")."""
from __future__ import annotations

from dataclasses import dataclass

from indexer.formats import bm25


@dataclass(frozen=True)
class SearchSettings:
    """Ranking settings; every one has a default that the dev sets were tuned on."""

    mode: str = "hybrid"  # default mode when a call names none
    # Fusion: "interpolate" (weighted sum of min-max normalised scores) or "rrf"
    # (weighted reciprocal ranks). Interpolation beat RRF (k 10-100) and z-score fusion on the
    # dev sets (bench/tune_fusion.py). The semantic weight, tuned with bench/tune.py on five dev
    # sets at once (ncp, stard, seeds-dev, seeds-more, gov): 1.3-1.6 best on the mean (0.762-0.763,
    # against 0.750 at 0.7), stard and the paraphrase kind gaining most; ncp alone prefers 0.7.
    fusion: str = "interpolate"
    rrf_k: float = 60.0  # RRF's rank constant
    keyword_weight: float = 1.0  # weight of the keyword list in fusion
    semantic_weight: float = 1.5  # weight of the semantic list in fusion
    # Semantic score of a passage: (1 - this) x its own cosine + this x its best sentence's, where the
    # index holds sentence vectors (indexer BuildOptions.sentences). bench/passage_views.py: 0.5
    # beat the passage alone on all five dev sets in semantic mode (by 0.01 to 0.2).
    sentence_weight: float = 0.5
    # Weight of the second model's list (an index built with BuildOptions.second_model: passage
    # vectors, no sentences), joined to the first model's by interpolation on the semantic side.
    # bench/two_models.py and bench/tune.py (e5-small + m3e-small), mean nDCG@10 of ncp, stard,
    # seeds-dev, seeds-more and gov, hybrid / semantic mode: alone 0.7603 / 0.6641, at 0.5
    # 0.7672 / 0.6801, at 1.0 0.7703 / 0.6593 (semantic mode below e5 alone). 0 turns it off.
    second_weight: float = 0.5
    candidates: int = 100  # passages each retriever contributes before fusion
    collapse: bool = True  # return near-identical passages once
    collapse_threshold: float = 0.9  # character-trigram Jaccard that counts as a near duplicate
    # Exact wording first (search/wording.py): weight of an unquoted query's wording found in a row
    # (1.0) or its words close together in order (up to wording.NEAR_BASE), added to fused scores.
    # At 1.0 a semantic weight of 1.6 let paraphrases outrank a stock phrase (seeds phrase kind 0.82).
    wording_weight: float = 1.5
    wording_max_chars: int = 16  # longer queries are questions, not wordings: no phrase look-up
    # Plain words to official words (search/thesaurus.py): the packaged thesaurus plus this file.
    thesaurus_file: str | None = None
    expansion_weight: float = 0.3  # of an official term added by the thesaurus, against 1.0 for the user's words
    # BM25 on the five dev sets at once (bench/tune.py): k1 0.3-0.6 a plateau, each set's keyword
    # figure at 0.6 at or above 0.9's (short passages, character bigrams: term counts saturate
    # early); hybrid mean 0.7666 -> 0.7687. b 0.6-0.85 score alike.
    bm25_k1: float = bm25.K1
    bm25_b: float = bm25.B
    # What counts as a match (search/matching.py); calibrated in bench/README.md ("The match definition").
    semantic_floor: float | None = 0.87  # the first model's similarity that matches alone; None: no floor
    overlap_floor: float = 0.855  # the similarity that matches with a tenth of the query's word weight held
    overlap_share: float = 0.1  # that tenth
    match_share: float = 0.5  # of the query's word weight (idf) a match by words holds
