"""Values shared by every retriever: a hit, a ranked list and the filters."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(slots=True)  # not frozen: cheaper to make (a query makes thousands)
class Hit:
    passage_id: str
    score: float


class Note(str):
    """A note on how a request was read (a field it did not know, a range it turned round): the text,
    in English, for programs (the API's `notes`, the CLI); `zh` for the page's readers."""
    zh: str

    def __new__(cls, text: str, zh: str) -> Note:
        note = super().__new__(cls, text)
        note.zh = zh
        return note


def split_values(text: str | None) -> list[str]:
    """Comma-separated values (ASCII or full-width commas), blanks dropped."""
    return [] if text is None else [v.strip() for v in text.replace("，", ",").split(",") if v.strip()]


@dataclass(frozen=True)
class Filters:
    """Restrictions on the documents a search may return. Empty means no restriction."""

    # region, issuer, doc_type and section take several values separated by commas: any of them (OR)
    region: str | None = None  # city or province, with or without 市/省
    year_from: int | None = None
    year_to: int | None = None
    issuer: str | None = None
    doc_type: str | None = None
    source: str | None = None  # a source file's path (prefix match)
    section: str | None = None  # a section role code (indexer/sections.py ROLES)

    def values(self, name: str) -> list[str]:
        """A filter's values (several, comma-separated, match any one)."""
        return split_values(getattr(self, name))

    def is_empty(self) -> bool:
        return all(value is None for value in self.__dict__.values())


@dataclass(frozen=True)
class Ranked:
    """A retriever's answer: hits best first. How many passages a query matches is the match set's
    business (search/matching.py), never a list's."""

    hits: list[Hit]
    similarity: np.ndarray | None = None  # every passage's similarity (-inf where not scored), where asked
