"""The ranking settings and their defaults; the measurements behind each default are in
bench/README.md ("Settings")."""
from __future__ import annotations

from dataclasses import dataclass

from indexer.formats import bm25


@dataclass(frozen=True)
class SearchSettings:
    """Ranking settings; every one has a default that the dev sets were tuned on. What each default
    was measured against, and the command that measures it again: bench/README.md ("Settings")."""

    mode: str = "hybrid"  # default mode when a call names none
    fusion: str = "interpolate"  # weighted sum of min-max normalised scores, or "rrf" (reciprocal ranks)
    rrf_k: float = 60.0  # RRF's rank constant
    keyword_weight: float = 1.0  # weight of the keyword list in fusion
    semantic_weight: float = 1.5  # weight of the semantic list in fusion
    # A passage's semantic score: (1 - this) x its own cosine + this x its best sentence's, where the
    # index holds sentence vectors (indexer BuildOptions.sentences).
    sentence_weight: float = 0.5
    # Weight of the second model's list (BuildOptions.second_model), joined to the first model's on the
    # semantic side by interpolation; 0 turns it off.
    second_weight: float = 0.5
    # How hybrid results are ordered: "learned" (the packaged LambdaMART model over the candidates'
    # features, search/ranker.py) or "interpolate" (fusion, then the wording boost).
    ranker: str = "interpolate"
    candidates: int = 100  # passages each retriever contributes before fusion
    collapse: bool = True  # return near-identical passages once
    collapse_threshold: float = 0.9  # character-trigram Jaccard that counts as a near duplicate
    # Exact wording first (search/wording.py): weight of an unquoted query's wording found in a row
    # (1.0) or its words close together in order (up to wording.NEAR_BASE), added to fused scores.
    wording_weight: float = 1.5
    wording_max_chars: int = 16  # longer queries are questions, not wordings: no phrase look-up
    # Plain words to official words (search/thesaurus.py): the packaged thesaurus plus this file.
    thesaurus_file: str | None = None
    expansion_weight: float = 0.3  # of an official term added by the thesaurus, against 1.0 for the user's words
    bm25_k1: float = bm25.K1
    bm25_b: float = bm25.B
    # What counts as a match (search/matching.py).
    semantic_floor: float | None = 0.87  # the first model's similarity that matches alone; None: no floor
    overlap_floor: float = 0.855  # the similarity that matches with a tenth of the query's word weight held
    overlap_share: float = 0.1  # that tenth
    # A word held by more than this share of the passages (发展, 经济 in government reports; 工作 in work
    # summaries) counts nothing towards that tenth: it says nothing of a passage's subject (as
    # Elasticsearch's `common` terms query sets high-frequency terms apart); 1.0: every word counts.
    common_cutoff: float = 0.3
    # A match by meaning also stands this far above the query's mean similarity to the corpus's other passages
    # (both floors lifted where that background is high: a generic query resembles most passages); None: off.
    background_margin: float | None = 0.02
    match_share: float = 0.5  # of the query's word weight (idf) a match by words holds
    # A query the domain check (search/domain.py) puts outside what the reports answer with at least this
    # probability has both similarity floors raised by `domain_lift`: what merely resembles it is no
    # answer, the passages holding its words still match; None: no check.
    domain_threshold: float | None = 0.75
    domain_lift: float = 0.03
