"""Train the formulation classifier (indexer/formats/formulations.py `Classifier`) on the hand labels and
measure it on queries it was not trained on.

Usage: python bench/train_formulations.py W [--no-write] [--wide corpus,ncp]

W holds the indexes `gov` (gov_reports.jsonl) and `seeds` (corpus/), as for bench/formulations.py, and
`ncp` (ncp-dev) for `--wide ncp`.
The labels: bench/labels/formulations.jsonl (30 queries), formulations-heldout.jsonl (32 more) and
formulations-heldout2.jsonl (30 more), written by the guide beside them without looking at the rules, and
formulations-av.jsonl and formulations-av2.jsonl (texts the panels of these queries showed unlabelled
once the neighbours were read); a text has one label under every query. Each distinct text is read as the build reads a
formulation: its e5-small passage vector, the log of the share of its index's reports that use it, its
length and how it sits in the text (`neighbours`). A logistic regression learns
good against bad. `--wide` adds labels of an index's formulations made under no query
(formulations-corpus.jsonl: every formulation of corpus/ not labelled before; formulations-ncp.jsonl:
300 of ncp-dev's). Query-grouped cross-validation (five folds of queries) prints the AUC and, for
every labelled query, the panel's precision at 10 and the good ones still shown at 20, the panel
computed by the engine with every formulation of the index scored by the model of its fold, by
threshold. A fold's model is trained on no text labelled under one of its queries or among the
first REACH formulations of their panels under the rules alone: it never judges what it learned.
(Leaving out only the texts first labelled under the fold's queries, as before 2026-12-06, let a
model judge common formulations it was trained on under another query.) The
model trained on every label is written to indexer/data/formulations-classifier.json. Fixed
settings, no randomness: the same labels and indexes give the same file.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from indexer.encoders import open_encoder  # noqa: E402
from indexer.formats.formulations import CLASSIFIER_FILE, Classifier  # noqa: E402
from search.engine import Engine  # noqa: E402

HERE = Path(__file__).resolve().parent
SETS = ("", "-heldout", "-heldout2")  # labelled one after the other (bench/README.md, "Formulations")
LABELS = [HERE / "labels" / f"formulations{name}.jsonl" for name in (*SETS, "-av", "-av2")]
QUERIES = [HERE / "labels" / ("formulations-to-label.jsonl" if not name else f"formulations{name}-queries.jsonl")
           for name in SETS]
WIDE = {"corpus": (HERE / "labels" / "formulations-corpus.jsonl", "corpus"),  # index-wide labels: index
        "ncp": (HERE / "labels" / "formulations-ncp.jsonl", "ncp")}
INDEXES = {"gov-reports": "gov", "corpus": "seeds", "ncp": "ncp"}  # index -> its folder in W
C = 10.0  # inverse regularisation (AUC 0.807 at 10, 0.803 at 30, 0.776 at 3 with the first neighbour features)
CORPUS_SCALE = 0.2  # the corpus features, standardised, against the vector's 384 values
THRESHOLD = 0.72  # below it the panel leaves a formulation out
FOLDS = 5
REACH = 60  # the depth of a panel under the rules alone that a fold's model must not have seen labelled


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("work")
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--wide", default="", help="index-wide label sets to train on too: corpus,ncp (measured, not shipped)")
    args = ap.parse_args()
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    label: dict[str, bool] = {}
    first: dict[str, str] = {}  # text -> the query it was first labelled under
    for path in LABELS:
        for line in open(path, encoding="utf-8"):
            row = json.loads(line)
            label.setdefault(row["text"], row["label"] == "good")
            first.setdefault(row["text"], row["query"])
    queries = [{**json.loads(line), "set": f"set {n + 1}"} for n, path in enumerate(QUERIES)
               for line in open(path, encoding="utf-8")]
    fold = {q["query"]: i % FOLDS for i, q in enumerate(queries)}
    index_of = {q["query"]: q["index"] for q in queries}
    listed = {q["query"]: {p["text"] for p in q["formulations"]} for q in queries}
    for text, query in first.items():
        listed[query].add(text)
    home = {t: index_of[q] for t, q in first.items()}  # the index a text is read from
    wide = [name for name in args.wide.split(",") if name]
    for name in wide:  # labels of an index's formulations, under no query
        path, index = WIDE[name]
        for line in open(path, encoding="utf-8"):
            row = json.loads(line)
            if row["text"] not in label:
                label[row["text"]] = row["label"] == "good"
                home[row["text"]] = index

    # Each formulation of each index read as the build reads it: its vector, the share of the index's
    # reports using it, its length. Every formulation of an index with queries (their panels are
    # scored), the labelled ones of the others.
    engines = {name: Engine(Path(args.work) / INDEXES[name], load_model=False) for name in set(home.values())}
    encoder = open_encoder(Classifier.MODEL)
    read: dict[str, tuple[np.ndarray, np.ndarray, dict[str, int]]] = {}
    for name, engine in engines.items():
        index = engine.phrase_index
        at = {t: i for i, t in enumerate(index.keys)}
        keep = (range(len(index.keys)) if name in index_of.values()
                else sorted(at[t] for t, h in home.items() if h == name and t in at))
        keys = [index.keys[i] for i in keep]
        extra = Classifier.features(index._whole[1][list(keep)], len(set(index.doc_of.tolist())),
                                    np.array([len(t) for t in keys]), index.beside[list(keep)])
        read[name] = (Classifier.vectors(encoder, keys), extra, {t: i for i, t in enumerate(keys)})
    # Texts the rules no longer keep (rules added since they were labelled: 一体推进, 严厉打击) are never
    # shown: nothing to learn about them.
    labelled = sorted(t for t in label if t in read[home[t]][2])
    print(f"{len(label) - len(labelled)} labelled texts left out: no formulation of their index under today's rules")
    place = [(home[t], read[home[t]][2][t]) for t in labelled]
    vectors = np.stack([read[name][0][i] for name, i in place])
    extra = np.stack([read[name][1][i] for name, i in place])
    mean, scale = extra.mean(0), extra.std(0)
    x = np.hstack([vectors, CORPUS_SCALE * (extra - mean) / scale])
    y = np.array([label[t] for t in labelled])
    # The model judging a fold's queries never saw a label of a text labelled under one of them or
    # among the first REACH of their panels under the rules alone (what could show once some are
    # left out): the index-wide labels would otherwise judge the panels they were trained on.
    reach: dict[int, set[str]] = {k: set() for k in range(FOLDS)}
    for q in queries:
        engine = engines[q["index"]]
        engine.phrase_index.reusable = None
        reach[fold[q["query"]]] |= listed[q["query"]] | {
            p["text"] for p in engine.phrases(q["query"], k=REACH, mode="keyword")["phrases"]}
    kept_from = {k: np.array([t in reach[k] for t in labelled]) for k in range(FOLDS)}  # fold k's model
    group = np.array([fold.get(first.get(t, ""), -1) for t in labelled])  # -1: an index-wide label

    models = [LogisticRegression(C=C, max_iter=5000).fit(x[~kept_from[k]], y[~kept_from[k]]) for k in range(FOLDS)]
    held = np.zeros(len(y))
    for k in range(FOLDS):
        held[group == k] = models[k].predict_proba(x[group == k])[:, 1]
    print(f"{len(labelled)} texts ({int(y.sum())} good; {int((group < 0).sum())} index-wide), {len(queries)} "
          f"queries: cross-validated AUC {roc_auc_score(y[group >= 0], held[group >= 0]):.3f} (texts labelled under a query)")
    print("threshold: precision at 10 (good / judged, unlabelled shown) · good ones still shown at 20; each "
          "query's panel as the engine shows it with the scores of the model not trained on that query")
    scores = {(name, k): models[k].predict_proba(np.hstack([v, CORPUS_SCALE * (e - mean) / scale]))[:, 1]
              for name, (v, e, _) in read.items() for k in range(FOLDS)}
    figures = {}
    for threshold, part in [(t, None) for t in (0.0, 0.5, 0.6, 0.65, 0.7, THRESHOLD, 0.75, 0.8)] + [
            (t, name) for name in ["gov-reports", "corpus", "set 1", "set 2", "set 3"] for t in (0.0, THRESHOLD)]:
        judged = good = unlabelled = found = wanted = 0
        for q in queries:
            if part is not None and part not in (q["index"], q["set"]):
                continue
            query, engine = q["query"], engines[q["index"]]
            engine.phrase_index.reusable = scores[(q["index"], fold[query])] >= threshold
            kept = [p["text"] for p in engine.phrases(query, k=20, mode="keyword")["phrases"]]
            judged += sum(t in label for t in kept[:10])
            good += sum(label.get(t, False) for t in kept[:10])
            unlabelled += sum(t not in label for t in kept[:10])
            goods = {t for t in listed[query] if label.get(t)}
            wanted += len(goods)
            found += len(goods & set(kept))
        figures[f"{threshold}" + (f" {part}" if part else "")] = {"precision_at_10": round(good / judged, 3),
                                                                 "good_at_20": f"{found}/{wanted}"}
        print(f"  {threshold:.2f}{' ' + part if part else ''}: {good / judged:.3f} ({good}/{judged}, {unlabelled})"
              f" · {found}/{wanted}")
    if args.no_write:
        return
    model = LogisticRegression(C=C, max_iter=5000).fit(x, y)
    coef = model.coef_[0]
    n_extra = extra.shape[1]
    extra_weights = coef[-n_extra:] * CORPUS_SCALE / scale  # on the raw features, as Classifier.scores reads them
    out = {"model": Classifier.MODEL, "threshold": THRESHOLD,
           "bias": round(float(model.intercept_[0] - extra_weights @ mean), 6),
           "share_weight": round(float(extra_weights[0]), 6), "length_weight": round(float(extra_weights[1]), 6),
           "neighbour_weights": [round(float(w), 6) for w in extra_weights[2:]],
           "weights": [round(float(w), 6) for w in coef[:-n_extra]],
           "trained_on": {"labels": [str(p.relative_to(HERE.parent)) for p in LABELS] + [
                               str(WIDE[name][0].relative_to(HERE.parent)) for name in wide], "texts": len(labelled),
                          "good": int(y.sum()), "C": C, "corpus_scale": CORPUS_SCALE},
           "cross_validated": {"auc": round(float(roc_auc_score(y, held)), 3),
                               "panel": figures}}
    CLASSIFIER_FILE.write_text(json.dumps(out, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {CLASSIFIER_FILE}")


if __name__ == "__main__":
    main()
