"""Stock formulations (常用表述): wordings that recur across different reports.

A formulation is a stretch of a clause (the text between two punctuation marks) that starts and
ends on word boundaries, a `、` list kept whole inside it, so it is cut where a writer would cut
it: `高度重视、周密部署、狠抓落实`, `取得了明显成效`, never `重视、周密部`. Leading particles and
adverbs that vary from report to report (`要`, `进一步`, `我们`) are trimmed, so
`要统一思想、提高认识` and `统一思想、提高认识` count as one. A single dictionary word counts only
where jieba tags it a set phrase, a four-character candidate only where it names an action on
something (`_formulation`).

At build time every candidate of every passage is counted by distinct reports; those found in two
reports or more are kept with the passages they occur in and how they sit in the text
(`phrases.npz` and `phrases.json` in the build, owned by this module). search/phrases.py counts
them over a set of passages.

Rules on words cannot tell a plain noun a writer types anyway (违法犯罪, 高校毕业生, 经济社会发展) from
a named policy term (高标准农田, 全国统一大市场): the meaning can. Where the build embeds, each kept
formulation is also scored by `Classifier` (logistic regression over its e5-small vector, learned from
hand labels by bench/train_formulations.py), and the panel leaves out those scored below its threshold.
The build also records how each formulation sits in the text (`neighbours`), which the classifier
reads too: a fragment cut from a longer wording has nearly always the same character beside it
(素市场化配置 after 要, 生产总值增长 after 区); a wording a writer reuses more often ends at a
clause's edge.
"""
from __future__ import annotations

import functools
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from ..store import Document, StoredPassage
from ..text import CJK

MIN_CHARS, MAX_CHARS = 4, 24  # characters of a formulation
MIN_REPORTS = 2
# Clause boundaries (normalised text: half-width punctuation), quotes and brackets included.
_CLAUSE = re.compile(r"[^,.;:!?。;:!?()\[\]《》“”\"'‘’<>{}…\s—|/]+")
# What varies at the start of the same formulation: particles, adverbs, the speaker.
_LEAD = re.compile(r"(?:了|的|我们|我市|我区|我县|我局|各级|同时|并且|并|是|要|必须|进一步|切实|不断|认真|还|也|都|已经|已|从而|"
                   r"以|在|对|把|将|使|让|和|与|及|等|其中|通过|按照|围绕|一是|二是|三是|四是|五是|六是|七是|八是|九是|十是|"
                   r"[一二三四五六七八九十]+、)+")  # matched at a span's start (pos), hence no ^
_TRAIL = re.compile(r"(?:等|的|了|是|和|与|及|等等)$")
_NUMERIC = re.compile(r"[0-9〇零一二三四五六七八九十百千万亿两几%年月日号点时分]")
_TIME = re.compile(r"^(?:截[至止])?(?:今年|去年|明年|上半年|下半年|近年|近几年|目前|当前|年初|年底|年末|一年|多年|今后|"
                   r"以来|来|同期|期间|全年)+$")
_PLACE = re.compile(r"^[\u4e00-\u9fff]{1,6}(?:省|市|县|区|州|镇|乡|街道|村|社区|自治区|自治州|盟|旗)$")
_BOUNDARY = re.compile(r"[,.;:!?。;:!?()\[\]《》“”\"'‘’<>{}…\s—|/、]")  # a clause's edge (normalised text)
_FILE = "phrases.npz"
_TEXTS = "phrases.json"


def clauses(norm: str) -> Iterable[tuple[int, int]]:
    """Spans of the candidate formulations in a normalised text: the beginnings and ends of each
    clause that fall on word boundaries, a `、` list kept whole inside (`我局高度重视、周密部署`
    gives `高度重视、周密部署`, never `重视、周密`), and each part of the list the same way."""
    found: set[tuple[int, int]] = set()
    for m in _CLAUSE.finditer(norm):
        parts, position = [], m.start()
        for part in m.group().split("、"):
            parts.append((position, position + len(part)))
            position += len(part) + 1
        pieces = [(parts, m.span())] + ([([p], p) for p in parts] if len(parts) > 1 else [])
        for items, (start, end) in pieces:
            if end - start < MIN_CHARS:
                continue
            # A cut may fall inside the first item (where the subject ends) or the last (where an
            # object starts), and between items; never inside the list.
            # Cut inside a list, an item keeps four characters at least (`统一思想`, not `思想`).
            keep = MIN_CHARS if len(items) > 1 else 0
            first, later = _word_bounds(norm, *items[0]), [a for a, _ in items[1:]]
            starts = [cut for cut in first[:-1] if items[0][1] - cut >= keep] + later
            bounds = first + later
            ends = ([b for _, b in items[:-1]]
                    + [cut for cut in _word_bounds(norm, *items[-1])[1:] if cut - items[-1][0] >= keep])
            one_word = set(zip(starts, starts[1:])) if len(items) == 1 else set()
            for a in starts:
                for b in ends:
                    if not MIN_CHARS <= b - a <= MAX_CHARS:
                        continue
                    if (a, b) in one_word and not _idiom(norm[a:b]):
                        continue  # a plain word (基础设施) is no formulation; a set phrase (高度重视) is
                    span = _trimmed(norm, a, b, bounds)
                    if span:
                        found.add(span)
    return sorted(span for span in found if _is_candidate(norm[span[0]:span[1]]))


_SET_PHRASE = ("i", "l", "z")  # jieba's tags of 成语, 习用语, 状态词: 高度重视, 以点带面, 狠抓落实


def _idiom(word: str) -> bool:
    """Whether jieba's dictionary tags a word as a set phrase."""
    return _pos().word_tag_tab.get(word) in _SET_PHRASE


_MANNER = ("v", "vd", "a", "ad", "d")  # 深入, 扎实, 加快, 高度 before a verb
_GENERIC_HEADS = {"工作", "情况", "问题", "成绩", "活动", "项目"}  # 工作取得, 情况进行


# Verbs that say nothing without their object (the guide's empty-verb rule; jieba tags some of the
# manner words before them as nouns: 全面, 有序, 协同).
_EMPTY_VERBS = {"推进", "实施", "开展", "构建", "贯彻", "落实"}
_LIGHT_VERBS = {"进行", "开展", "取得", "符合", "实现", "作为", "成为", "给予", "予以", "加以", "到", "进", "为",
                # and what needs the verb or noun that follows: 各单位一定要, 城市管理相关
                "要", "应", "应当", "应该", "能", "能够", "会", "可以", "需要", "必须", "相关"}
_FUNCTION_WORDS = ("d", "ul", "uj", "p", "c")  # adverb, particle, preposition, conjunction


def _formulation(key: str) -> bool:
    """Whether a candidate says something a writer reuses. Never when it ends where the sentence
    goes on: on a verb that needs its object (车辆进行, 志愿者到), on a function word (取得了一定),
    or on `的` + adjective (工作的重要). A four-character one: a compound whose last word is a verb
    acting on a domain (生态修复, 问题整改, 污染防治), or one word jieba tags a state (状态词) or a
    verb. Not a noun compound (人民群众, 经济发展), not a manner word before a bare verb or two bare
    verbs (深入推进, 扎实开展, 贯彻落实: the object is missing; after any word, the empty verbs 推进,
    实施, 开展, 构建, 贯彻, 落实), not a preposition and one word (关于加强), not a generic noun before a verb
    (工作取得), not one idiom or fixed expression standing alone (因地制宜, 违法犯罪).
    Measured against hand labels (bench/formulations.py, bench/README.md "Formulations")."""
    words = list(_pos().cut(key, HMM=False))
    if len(words) > 1 and (words[-1].word in _LIGHT_VERBS or words[-1].flag in _FUNCTION_WORDS
                           or (words[-2].word == "的" and words[-1].flag == "a")):
        return False
    if len(key) > MIN_CHARS or "、" in key:
        return True
    if key[2:] in _EMPTY_VERBS or (len(words) == 2 and words[0].flag == "p"):
        return False  # 协同推进, 认真落实: whatever the manner, the object is missing; 关于加强
    if len(words) == 1:
        return words[0].flag in ("z", "v")
    if len(words) == 2 and ((words[0].flag in _MANNER and words[1].flag in ("v", "vd"))
                            or words[0].word in _GENERIC_HEADS):
        return False
    return len(words) > 2 or words[-1].flag in ("v", "vd")


@functools.lru_cache(maxsize=1)
def _pos():
    import jieba.posseg

    from indexer.analysis import _jieba

    return jieba.posseg.POSTokenizer(_jieba())


def _word_bounds(norm: str, start: int, end: int) -> list[int]:
    """Offsets in norm[start:end] where a word begins or ends (jieba, the keyword side's dictionary)."""
    from indexer.analysis import _jieba

    bounds, position = [start], start
    for word in _jieba().cut(norm[start:end], HMM=False):
        position += len(word)
        bounds.append(position)
    return bounds


def _trimmed(norm: str, start: int, end: int, bounds: list[int]) -> tuple[int, int] | None:
    """Without the particles and adverbs that vary in front (`要`, `进一步`) and `的` / `等` after;
    None where too little is left (`我们也清醒`, `的党中央`). `bounds`: where words begin in the clause."""
    lead = _LEAD.match(norm, start, end)
    if lead:
        # Only whole words go (`要统一思想`, never the 要 of 要素), and 以 stays where 为 follows: the
        # frame 以…为… is the formulation (以县城为重要载体).
        cut = max(b for b in bounds if start <= b <= lead.end())
        if cut > start and norm[cut - 1] == "以" and "为" in norm[cut:end]:
            cut -= 1
        start = cut
    trail = _TRAIL.search(norm, start, end)
    if trail:
        end = trail.start()
    return (start, end) if end - start >= MIN_CHARS else None


def _is_candidate(text: str) -> bool:
    if not MIN_CHARS <= len(text) <= MAX_CHARS or text.startswith("、") or text.endswith("、"):
        return False
    chars = CJK.findall(text)
    if len(chars) < MIN_CHARS or len(chars) + text.count("、") < len(text):
        return False  # letters, digits, placeholders
    if len(_NUMERIC.findall(text)) * 3 > len(text):
        return False  # numbers and dates
    return not _PLACE.match(text) and not _TIME.match(text)


def build(root: Path, passages: Iterable[tuple[StoredPassage, Document]]) -> int:
    """Count every passage's candidates by report; write those of MIN_REPORTS reports or more with
    their occurrences (passages numbered in the order given: the keyword index's, as both read
    PassageStore.iter_passages). Returns their number."""
    reports: dict[str, set[str]] = {}
    found: list[tuple[int, str]] = []
    every: set[str] = set()  # the reports (for the share of them using a formulation)
    norms: list[str] = []
    for i, (passage, doc) in enumerate(passages):
        every.add(doc.doc_id)
        norms.append(passage.norm)
        for start, end in clauses(passage.norm):
            key = passage.norm[start:end]
            reports.setdefault(key, set()).add(doc.doc_id)
            found.append((i, key))
    kept = sorted(key for key, docs in reports.items() if len(docs) >= MIN_REPORTS and _formulation(key))
    number = {key: n for n, key in enumerate(kept)}
    pairs = np.array([(i, number[key]) for i, key in found if key in number], dtype=np.int32).reshape(-1, 2)
    # one pair per passage and formulation, ordered by passage: a passage holding one in two clauses is
    # one of its passages (and `neighbours` reads every place in it once)
    pairs = np.unique(pairs, axis=0)
    np.savez(root / _FILE, passage=pairs[:, 0], phrase=pairs[:, 1],
             neighbours=neighbours(norms, pairs[:, 0], pairs[:, 1], kept).astype(np.float32))
    (root / _TEXTS).write_text(json.dumps({"phrases": kept, "reports": [len(reports[key]) for key in kept],
                                           "report_total": len(every)}, ensure_ascii=False), encoding="utf-8")
    return len(kept)


NEIGHBOURS = 6  # features of `neighbours`


def neighbours(norms: Sequence[str], passage: np.ndarray, phrase: np.ndarray, keys: Sequence[str]) -> np.ndarray:
    """How each formulation sits in the text, over every place it is found in the passages where it
    occurs (`passage`, `phrase`: the occurrence pairs; `norms`: the passages' normalised texts). Before
    it: the share of places at a clause's edge (punctuation, the passage's start), the chance that two
    places have the same neighbour (Simpson's index, an edge counted as one kind) and the entropy of
    the neighbours (Miller–Madow's estimate); the same three after it. A fragment has one character
    beside it nearly everywhere: 素市场化配置 follows 要, 生产总值增长 follows 区. The latter two are
    estimates that do not fall with the number of places, as the plain share of the commonest
    neighbour and the plain entropy do: a small corpus's formulations are found in two to four places."""
    before: list[dict[str, int]] = [{} for _ in keys]
    after: list[dict[str, int]] = [{} for _ in keys]
    for p, c in zip(passage.tolist(), phrase.tolist()):
        text, key = norms[p], keys[c]
        at = text.find(key)
        while at >= 0:
            end = at + len(key)
            left = text[at - 1] if at > 0 and not _BOUNDARY.match(text[at - 1]) else ""  # "": an edge
            right = text[end] if end < len(text) and not _BOUNDARY.match(text[end]) else ""
            before[c][left] = before[c].get(left, 0) + 1
            after[c][right] = after[c].get(right, 0) + 1
            at = text.find(key, at + 1)
    out = np.zeros((len(keys), NEIGHBOURS))
    for c in range(len(keys)):
        for side, counts in enumerate((before[c], after[c])):
            n = sum(counts.values())
            if not n:
                continue
            found = np.array(list(counts.values()), dtype=np.float64)
            same = float((found * (found - 1)).sum() / (n * (n - 1))) if n > 1 else 1.0
            shares = found / n
            entropy = float(-(shares * np.log(shares)).sum()) + (len(found) - 1) / (2 * n)
            out[c, 3 * side:3 * side + 3] = (counts.get("", 0) / n, same, entropy)
    return out


def exists(root: Path) -> bool:
    return (root / _FILE).exists()


def texts(root: Path) -> list[str]:
    """The kept formulations' texts, in their numbering."""
    return json.loads((root / _TEXTS).read_text(encoding="utf-8"))["phrases"]


def write_scores(root: Path, logits: np.ndarray, classifier: Classifier) -> np.ndarray:
    """Score each formulation (the chance a writer reuses it as it stands) from its embedding's part of
    the classifier's logit and how widely the corpus uses it; keep the scores with the threshold below
    which the panel leaves a formulation out. Returns the scores."""
    found = json.loads((root / _TEXTS).read_text(encoding="utf-8"))
    scores = classifier.scores(logits, np.asarray(found["reports"]), found["report_total"],
                               np.array([len(t) for t in found["phrases"]]), beside(root))
    found["reusable"] = {"scores": [round(float(s), 4) for s in scores], "threshold": classifier.threshold,
                         "classifier": classifier.digest}
    (root / _TEXTS).write_text(json.dumps(found, ensure_ascii=False), encoding="utf-8")
    return scores


def beside(root: Path) -> np.ndarray:
    """How each formulation sits in the text (`neighbours`), as the build wrote it."""
    data = np.load(root / _FILE)
    if "neighbours" not in data:
        raise ValueError(f"{root} was built before formulations' neighbours were recorded: "
                         "re-run `report-search index`")
    return data["neighbours"]


def load(root: Path) -> tuple[np.ndarray, np.ndarray, list[str], np.ndarray | None]:
    """The occurrences as written: (passage number, formulation number) pairs, ordered by passage,
    the formulations' texts (normalised: simplified script, one form for all reports), and which of
    them a writer reuses as they stand (None where the build did not score them: built without
    embeddings, or before the classifier)."""
    data = np.load(root / _FILE)
    found = json.loads((root / _TEXTS).read_text(encoding="utf-8"))
    reusable = found.get("reusable")
    keep = (None if reusable is None
            else np.asarray(reusable["scores"], dtype=np.float32) >= reusable["threshold"])
    return data["passage"], data["phrase"], found["phrases"], keep


CLASSIFIER_FILE = Path(__file__).resolve().parent.parent / "data" / "formulations-classifier.json"


@dataclass(frozen=True)
class Classifier:
    """Whether a writer reuses a formulation as it stands: a logistic regression over its e5-small
    passage vector, the log of the share of the corpus's reports using it, its length and how it sits
    in the text (`neighbours`), trained on hand labels (bench/train_formulations.py; bench/README.md,
    "Formulations"). Plain nouns and fragments score low, set phrases and policy terms high."""

    weights: np.ndarray  # of the vector
    share_weight: float  # of log(reports using it / reports)
    length_weight: float  # of its characters
    neighbour_weights: np.ndarray  # of `neighbours`' features
    bias: float
    threshold: float
    digest: str  # of the vector's weights: the embedding logits kept in the embedding cache are told apart by it

    MODEL = "e5-small"
    GROUP = 1024  # texts embedded in one batch: short texts run 1.5 times as fast as in groups of 64

    @classmethod
    @functools.cache
    def packaged(cls) -> Classifier | None:
        if not CLASSIFIER_FILE.exists():
            return None
        found = json.loads(CLASSIFIER_FILE.read_bytes())
        weights = np.asarray(found["weights"], dtype=np.float32)
        return cls(weights, float(found["share_weight"]), float(found["length_weight"]),
                   np.asarray(found["neighbour_weights"], dtype=np.float64), float(found["bias"]),
                   float(found["threshold"]), hashlib.sha1(weights.tobytes()).hexdigest()[:12])

    @classmethod
    def vectors(cls, encoder, texts: Sequence[str]) -> np.ndarray:
        """The texts' vectors as the classifier reads them (passages of e5-small)."""
        return encoder.encode_passages(list(texts), batch=cls.GROUP)

    @staticmethod
    def features(reports: np.ndarray, report_total: int, lengths: np.ndarray, beside: np.ndarray) -> np.ndarray:
        """The corpus's part: log of the share of reports using a formulation, its characters, and its
        `neighbours` (`beside`)."""
        share = np.log(np.maximum(reports, 1) / max(report_total, 1))
        return np.hstack([np.stack([share, np.asarray(lengths, dtype=np.float64)], axis=1),
                          np.asarray(beside, dtype=np.float64).reshape(-1, NEIGHBOURS)])

    def embedding_logits(self, vectors: np.ndarray) -> np.ndarray:
        return vectors @ self.weights

    def scores(self, logits: np.ndarray, reports: np.ndarray, report_total: int, lengths: np.ndarray,
               beside: np.ndarray) -> np.ndarray:
        extra = self.features(reports, report_total, lengths, beside) @ np.concatenate(
            [[self.share_weight, self.length_weight], self.neighbour_weights])
        return 1.0 / (1.0 + np.exp(-(logits + extra + self.bias)))


class ScoringEncoder:
    """The classifier's embedding part as an encoder of one number per text, so that the embedding
    cache keeps it for every formulation a build has seen (a rebuild embeds only new ones)."""

    def __init__(self, encoder, classifier: Classifier):
        from types import SimpleNamespace

        self.encoder, self.classifier = encoder, classifier
        self.spec = SimpleNamespace(cache_variant=f"formulation-logit:{classifier.digest}:{encoder.spec.cache_variant}",
                                    dimension=1)

    def encode_passages(self, texts: Sequence[str], progress=None) -> np.ndarray:
        logits = self.classifier.embedding_logits(Classifier.vectors(self.encoder, texts))
        if progress:
            progress(len(texts))
        return logits.astype(np.float32)[:, None]
