"""Whether a query asks something work reports, policy notices and statutes could answer: a logistic
model over the first model's query vector, judging the query before any passage is scored.

A query from another field (`周杰伦演唱会门票怎么抢`, `如何养护多肉植物`, `王者荣耀打野英雄推荐`) finds passages
that resemble it at the similarities relevant passages reach (e5-small's are compressed: 0.85–0.88
either way), so no floor on the passages' similarity tells the two apart without losing the
colloquial questions whose relevant passages match by meaning alone (bench/README.md, "The match
definition"). The query itself does: its vector says what it is about. Where the model puts a query
outside the reports' field and no passage of the corpus matches it by its words, the engine raises its
similarity floors (search/engine.py `_outside`, `SearchSettings.domain_threshold`, `domain_lift`): a
passage that merely resembles it is no answer.

The model ships in the package (search/data/domain.json), trained by `bench/train_domain.py` from
queries written for it (bench/devqueries/train-ood.jsonl, train-indomain.jsonl, train-indomain2.jsonl)
and queries made from the corpora (headings, first sentences, the thesaurus's plain words, the panels'
formulations); it names the model whose vectors it reads (e5-small, through either engine): an index
built with another first model has no domain check."""
from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MODEL_FILE = Path(__file__).resolve().parent / "data" / "domain.json"


@dataclass(frozen=True)
class DomainModel:
    models: tuple[str, ...]  # the first models whose query vectors it reads (an index's manifest "model")
    weights: np.ndarray
    bias: float

    def outside(self, vector: np.ndarray) -> float:
        """The probability that a query (its first-model vector) lies outside what the reports answer."""
        return outside(self.weights, self.bias, vector)


def outside(weights: np.ndarray, bias: float, vector: np.ndarray) -> float:
    """A logistic model's probability for one vector."""
    z = float(np.dot(weights, np.asarray(vector, dtype=np.float32))) + bias
    return float(1.0 / (1.0 + np.exp(-z)))


@functools.cache
def _packaged(path: Path = MODEL_FILE) -> DomainModel | None:
    if not path.exists():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    return DomainModel(tuple(data["models"]), np.asarray(data["weights"], dtype=np.float32), float(data["bias"]))


def for_model(model: str | None, path: Path = MODEL_FILE) -> DomainModel | None:
    """The packaged domain model, where it reads the vectors of an index's first `model`; else None."""
    found = _packaged(path)
    return found if found is not None and model in found.models else None
