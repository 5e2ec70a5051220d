"""Plain words to official words: query expansion from a thesaurus.

Citizens ask `乱停车`, reports say `机动车违停`. A thesaurus line maps colloquial terms to the
official terms reports use:

    # comment
    乱停车, 乱停乱放 => 违停, 违章停车, 机动车违停

When a left-hand term occurs in a query (normalised: simplified script, half-width), the
right-hand terms are added to the keyword side as optional terms at a lower weight than the
user's own words. The package ships `search/data/thesaurus.txt`; a user file in the same
format adds entries (`--thesaurus FILE`, `SearchSettings.thesaurus_file`).
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from indexer.text import normalise

_SPLIT = re.compile(r"[,，、]")


class ThesaurusError(ValueError):
    """A thesaurus file that cannot be read; the message names the file and line."""


@dataclass(frozen=True)
class Thesaurus:
    entries: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (colloquial term, official terms)

    def expansions(self, query: str) -> list[tuple[str, tuple[str, ...]]]:
        """(colloquial term, official terms) for each term the query holds; an official term is
        added once, and not when the query has it already."""
        norm = normalise(query)
        fired, added = [], set()
        for term, officials in self.entries:  # longer terms first
            if term in norm:
                new = tuple(o for o in officials if o not in norm and o not in added)
                if new:
                    fired.append((term, new))
                    added.update(new)
        return fired

    def short_forms(self, official: str) -> list[str]:
        """The colloquial terms that stand for an official one (`创文` for `创建文明城市`): how reports
        abbreviate it, though a search never expands that way."""
        norm = normalise(official)
        return [term for term, officials in self.entries if norm in officials]

    def __len__(self) -> int:
        return len(self.entries)


def parse(text: str, name: str = "thesaurus") -> list[tuple[str, tuple[str, ...]]]:
    entries = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        left, arrow, right = line.partition("=>")
        lefts = [normalise(t.strip()) for t in _SPLIT.split(left) if t.strip()]
        rights = tuple(dict.fromkeys(normalise(t.strip()) for t in _SPLIT.split(right) if t.strip()))
        if not arrow or not lefts or not rights:
            raise ThesaurusError(f"{name}, line {number}: expected `colloquial, … => official, …`, got {line!r}")
        entries.extend((term, tuple(r for r in rights if r != term)) for term in lefts)
    return entries


@functools.lru_cache(maxsize=8)
def load(user_file: str | None = None) -> Thesaurus:
    """The packaged thesaurus, plus a user's file when given."""
    packaged = resources.files("search").joinpath("data/thesaurus.txt")
    entries = parse(packaged.read_text(encoding="utf-8"), "search/data/thesaurus.txt") if packaged.is_file() else []
    if user_file:
        path = Path(user_file)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ThesaurusError(f"cannot read thesaurus {path}: {exc}") from None
        entries += parse(text, str(path))
    merged: dict[str, list[str]] = {}
    for term, officials in entries:
        merged.setdefault(term, [])
        merged[term] += [o for o in officials if o not in merged[term]]
    # Longer terms first: `垃圾桶满了` speaks before `垃圾桶`.
    return Thesaurus(tuple(sorted(((t, tuple(o)) for t, o in merged.items() if o), key=lambda e: -len(e[0]))))
