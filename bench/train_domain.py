"""Train the domain check (search/domain.py): a logistic model over e5-small's query vectors telling a
query no report answers from one reports answer. Writes search/data/domain.json.

Usage: python bench/train_domain.py W [--no-write]

W: the dev sets' indexes, as bench/devsets.py names them (W/gov embeds the queries and, with W/seeds,
gives the made ones). Training queries, all written or made for this and none a dev or evaluation query:
- outside: bench/devqueries/train-ood.jsonl (300, written blind: nonsense, other fields, questions near
  the reports' subjects that want personal or entertainment answers);
- inside: bench/devqueries/train-indomain.jsonl (240, written blind: citizens' plain questions, legal
  questions, a drafter's wording), train-indomain2.jsonl (300 more, written blind: complaints in plain
  and dialect words, legal questions over many laws, slogans, named programmes), and queries made from
  corpus/ and gov-reports: as bench/train_ranker.py makes them (headings, first sentences, the
  thesaurus's plain words) and FORMULATIONS of each panel's formulations, weighted MADE_WEIGHT each.
A training query near an evaluation one is left out, so the figures below are of queries the model
never saw nor anything like them: an outside one sharing a word of two characters or more (question
words aside) with a query of the three sets of bench/devqueries/unanswerable*.jsonl (the blind
writer's `山海情演员表` and `红烧肉的家常做法` are in the held-out set word for word), an inside one
sharing half its words with a dev query. Prints, at the engine's threshold, how many queries of each
dev set and of the three unanswerable sets the model puts outside (bench/README.md, "A domain check on
the query").
"""
from __future__ import annotations

import argparse
import json
import random
import re
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import devsets  # noqa: E402
import train_ranker  # noqa: E402
from indexer.encoders import CALIBRATED_MODELS  # noqa: E402
from search import domain  # noqa: E402
from search.engine import Engine, SearchSettings  # noqa: E402

HERE = Path(__file__).resolve().parent
QUERIES = HERE / "devqueries"
C = 10.0  # regularisation: 3 puts fewer unanswerable queries outside, 30 more dev queries (bench/README.md)
MADE_WEIGHT = 0.3
FORMULATIONS = 150  # made queries from each corpus's formulations
SEED = 7
# two characters of a question's form, not of its subject: shared by an evaluation query, they do not
# make a training query near it
FORM = set("怎么 什么 为什 么办 是什 么做 多久 推荐 攻略 教程 好看 适合 合什 用什 么调 么原 时候 么时 一次 第一 "
           "几个 是谁 好吃 能吃 起来 么鞋 么回 回事 一个 方法 技巧 入门 原因 可以 哪个 多少 少钱 如何 注意 需要 "
           "要注 意什".split())


def words(text: str) -> set[str]:
    """A query's character pairs (Chinese) and Latin words of three letters or more, its form aside."""
    t = text.lower()
    pairs = {t[i:i + 2] for i in range(len(t) - 1) if all("\u4e00" <= c <= "\u9fff" for c in t[i:i + 2])}
    return (pairs - FORM) | set(re.findall(r"[a-z]{3,}", t))


def read(path: Path) -> list[str]:
    return [json.loads(line)["text"] for line in path.open(encoding="utf-8") if line.strip()]


def formulations_of(engine: Engine, rng: random.Random) -> list[str]:
    """FORMULATIONS of the formulations a corpus's panel shows (what a writer searches for as it stands)."""
    index = engine.phrase_index
    shown = sorted(k for k, keep in zip(index.keys, index.reusable) if keep) if index.reusable is not None \
        else sorted(index.keys)
    return rng.sample(shown, min(FORMULATIONS, len(shown)))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("work")
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--C", type=float, default=C, help="regularisation (measuring only: the shipped model is C's)")
    args = ap.parse_args()
    from sklearn.linear_model import LogisticRegression

    work = Path(args.work)
    threshold = SearchSettings().domain_threshold
    evaluation = {f"unanswerable ({name})": read(QUERIES / f"{name}.jsonl")
                  for name in ("unanswerable", "unanswerable-heldout", "unanswerable-heldout2")}
    dev = {name: [q["text"] for q in queries]
           for name, _engine, queries, _judge in devsets.open_sets(
               [f"{n}={work / f}:{d}" for n, (f, d) in devsets.DEV_SETS.items()])}
    near_eval = [words(t) for texts in evaluation.values() for t in texts]
    near_dev = [words(t) for texts in dev.values() for t in texts]

    def shares_a_word(text: str) -> bool:
        return any(words(text) & other for other in near_eval)

    def shares_half(text: str) -> bool:
        w = words(text)
        return any(w and len(w & other) / len(w | other) >= 0.5 for other in near_dev)

    written_outside = read(QUERIES / "train-ood.jsonl")
    outside = [t for t in written_outside if not shares_a_word(t)]
    written = read(QUERIES / "train-indomain.jsonl") + read(QUERIES / "train-indomain2.jsonl")
    inside = [t for t in written if not shares_half(t)]
    rng = random.Random(SEED)
    made = []
    for name in ("seeds", "gov"):
        corpus = Engine(str(work / name))
        made += [q["text"] for q in train_ranker.made_queries(corpus, rng)]
        made += formulations_of(corpus, rng)
    engine = Engine(str(work / "gov"))

    def embed(texts: list[str]) -> np.ndarray:
        return np.stack([np.asarray(engine.retrieval.query_vector(engine.keyword.parse(t)), dtype=np.float32)
                         for t in texts])

    x = np.vstack([embed(outside), embed(inside), embed(made)])
    y = np.concatenate([np.ones(len(outside)), np.zeros(len(inside) + len(made))])
    weight = np.concatenate([np.ones(len(outside) + len(inside)), np.full(len(made), MADE_WEIGHT)])
    model = LogisticRegression(C=args.C, max_iter=5000, class_weight="balanced").fit(x, y, sample_weight=weight)
    weights, bias = model.coef_[0].astype(np.float32), float(model.intercept_[0])
    print(f"trained on {len(outside)} outside (of {len(written_outside)}), {len(inside)} inside (of {len(written)}) and "
          f"{len(made)} made queries")
    figures = {}
    for name, texts in {**dev, **evaluation}.items():
        flagged = [t for t, v in zip(texts, embed(texts)) if domain.outside(weights, bias, v) >= threshold]
        figures[name] = {"queries": len(texts), "outside": len(flagged)}
        shown = ", ".join(flagged[:6]) if name in dev else ""
        print(f"  {name}: {len(flagged)} of {len(texts)} outside at {threshold}  {shown}")
    if not args.no_write:
        domain.MODEL_FILE.write_text(json.dumps({
            "models": list(CALIBRATED_MODELS),  # the same weights through either engine
            "weights": [round(float(w), 6) for w in weights], "bias": round(bias, 6),
            "trained": {"C": args.C, "outside": len(outside), "inside": len(inside), "made": len(made),
                        "made_weight": MADE_WEIGHT, "seed": SEED, "threshold": threshold, "figures": figures},
        }, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {domain.MODEL_FILE}")


if __name__ == "__main__":
    main()
