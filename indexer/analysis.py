"""The one analysis used for documents and queries alike.

Two token streams over the normalised text (simplified script, half-width):
- words: jieba in search mode (whole words plus their dictionary parts), our
  user dictionary, our stopwords; placeholders (`xx`, `__`) are never terms.
- bigrams: overlapping character pairs over the word characters, so that a
  quoted phrase matches wherever its characters stand in a row, however jieba
  would have split them. Punctuation and spaces are ignored inside phrases;
  a placeholder breaks them.
Both are exposed as Whoosh analyzers (picklable, stateless classes).
"""
from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import os
import re
import sqlite3
import threading
from importlib import resources
from pathlib import Path
from typing import Iterator, NamedTuple

from whoosh.analysis import Token, Tokenizer

from .text import WORD_CHAR, WORD_CHARS, mask_placeholders, normalise_aligned


class Term(NamedTuple):
    text: str
    start: int  # character offsets into the original text
    end: int


def _data(name: str) -> str:
    return resources.files("indexer").joinpath(f"data/{name}").read_text(encoding="utf-8")


@functools.lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    words = set()
    for line in _data("stopwords.txt").splitlines():
        if not line.startswith("#"):
            words.update(line.split())
    return frozenset(words)


@functools.lru_cache(maxsize=1)
def _jieba():
    """jieba with our user dictionary. Its word frequencies come from a file of this user's cache
    (`_StoredFrequencies`), written on first use, so that a process tokenising one query does not
    wait 0.7 s for the whole dictionary; a process tokenising much loads it after all."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    path = _stored_path()
    if not path.exists():
        tokenizer = _full_jieba()
        with contextlib.suppress(OSError, sqlite3.Error):
            _store(tokenizer, path)
        return tokenizer
    tokenizer = jieba.Tokenizer()
    tokenizer.FREQ = _StoredFrequencies(path, tokenizer)
    tokenizer.total = tokenizer.FREQ.total
    tokenizer.initialized = True
    return tokenizer


def _full_jieba():
    import jieba

    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    for line in _data("userdict.txt").splitlines():
        word = line.strip()
        if word and not word.startswith("#"):
            tokenizer.add_word(word)
    return tokenizer


LOAD_AFTER_LOOKUPS = 200_000  # about a hundred queries, or a few reports: then the whole dictionary pays


def _stored_path() -> Path:
    """The stored frequencies of this jieba and this user dictionary, in the user's cache
    (layout.user_cache)."""
    import jieba

    from .layout import user_cache

    dictionary = Path(jieba.get_dict_file().name)
    key = hashlib.sha1(f"{jieba.__version__}:{dictionary.stat().st_size}:{_data('userdict.txt')}".encode()).hexdigest()
    return user_cache() / f"jieba-{key[:16]}.sqlite"


def _store(tokenizer, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.partial")
    db = sqlite3.connect(partial)
    db.execute("CREATE TABLE freq (word TEXT PRIMARY KEY, freq INTEGER NOT NULL) WITHOUT ROWID")
    db.executemany("INSERT INTO freq VALUES (?, ?)", tokenizer.FREQ.items())
    db.execute("CREATE TABLE total (total INTEGER NOT NULL)")
    db.execute("INSERT INTO total VALUES (?)", (tokenizer.total,))
    db.commit()
    db.close()
    os.replace(partial, path)


class _StoredFrequencies:
    """jieba's `FREQ` (its prefix dictionary, our user words in it) read from SQLite one word at a
    time. After LOAD_AFTER_LOOKUPS look-ups it reads the whole into memory and hands that dict to the
    tokenizer: the same frequencies either way, so the same words (tests/test_keyword_search.py checks)."""

    def __init__(self, path: Path, tokenizer):
        self._db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        self.total = self._db.execute("SELECT total FROM total").fetchone()[0]
        self._tokenizer, self._lookups = tokenizer, 0
        self._lock = threading.Lock()  # one connection, several server threads
        self._loaded: dict | None = None  # the whole dictionary, once loaded

    def get(self, word: str, default=None):
        if self._loaded is not None:  # a caller that still holds this object after the hand-over
            return self._loaded.get(word, default)
        self._lookups += 1
        if self._lookups > LOAD_AFTER_LOOKUPS:
            with self._lock:
                if self._loaded is None:
                    self._loaded = dict(self._db.execute("SELECT word, freq FROM freq"))
                    self._tokenizer.FREQ = self._loaded
            return self._loaded.get(word, default)
        with self._lock:
            row = self._db.execute("SELECT freq FROM freq WHERE word = ?", (word,)).fetchone()
        return default if row is None else row[0]

    def __contains__(self, word: str) -> bool:
        return self.get(word) is not None

    def __getitem__(self, word: str) -> int:
        value = self.get(word)
        if value is None:
            raise KeyError(word)
        return value

    def __setitem__(self, word: str, value: int) -> None:  # jieba's add_word: the whole dictionary first
        self._lookups = LOAD_AFTER_LOOKUPS
        self.get(word)
        self._tokenizer.FREQ[word] = value


@functools.lru_cache(maxsize=64)  # the indexer asks for each text twice: ranking arrays and Whoosh
def word_terms(text: str) -> tuple[Term, ...]:
    """Index terms of a text: jieba search-mode words, normalised, without stopwords."""
    norm = mask_placeholders(normalise_aligned(text))
    stop = stopwords()
    out = []
    for word, start, end in _jieba().tokenize(norm, mode="search"):
        word = word.strip()
        if word and word not in stop and WORD_CHAR.search(word):
            out.append(Term(word, start, end))
    return tuple(out)


@functools.lru_cache(maxsize=64)
def bigram_terms(text: str) -> tuple[tuple[str, int, int, int], ...]:
    """(bigram, position, start, end) over the word characters of a text.

    Positions count word characters; a placeholder adds a gap so that no
    phrase can match across it.
    """
    norm = mask_placeholders(normalise_aligned(text), "\x00")
    out = []
    prev_char, prev_at, pos = None, 0, 0
    for at, ch in enumerate(norm):
        if ch == "\x00":
            if prev_char is not None:
                pos += 1
            prev_char = None
            continue
        if not WORD_CHAR.match(ch):
            continue
        if prev_char is not None:
            out.append((prev_char + ch, pos, prev_at, at + 1))
            pos += 1
        prev_char, prev_at = ch, at
    return tuple(out)


def phrase_chars(text: str) -> str:
    """The word characters of a phrase, in order (what a phrase query matches)."""
    return "".join(WORD_CHAR.findall(mask_placeholders(normalise_aligned(text), " ")))


_NOT_IN_STREAM = re.compile(f"[^\\x00{WORD_CHARS}]")  # neither a word character nor a placeholder


def phrase_stream(text: str) -> str:
    """The word characters a text's bigrams run over (`bigram_terms`), a placeholder as `\\x00`: a
    phrase's characters (`phrase_chars`) are a substring of it exactly where the phrase matches."""
    return _NOT_IN_STREAM.sub("", mask_placeholders(normalise_aligned(text), "\x00"))


# Passages' phrase characters, kept for the ones a server meets again (wording-first ranking).
passage_phrase_chars = functools.lru_cache(maxsize=8192)(phrase_chars)


class WordTokenizer(Tokenizer):
    """Whoosh tokenizer over `word_terms`."""

    def __call__(self, value, positions=False, chars=False, keeporiginal=False, removestops=True,
                 start_pos=0, start_char=0, tokenize=True, mode="", **kwargs) -> Iterator[Token]:
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        for i, term in enumerate(word_terms(value)):
            token.text = term.text
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = term.text
            if positions:
                token.pos = start_pos + i
            if chars:
                token.startchar, token.endchar = start_char + term.start, start_char + term.end
            yield token


class BigramTokenizer(Tokenizer):
    """Whoosh tokenizer over `bigram_terms`."""

    def __call__(self, value, positions=False, chars=False, keeporiginal=False, removestops=True,
                 start_pos=0, start_char=0, tokenize=True, mode="", **kwargs) -> Iterator[Token]:
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        for text, pos, start, end in bigram_terms(value):
            token.text = text
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = text
            if positions:
                token.pos = start_pos + pos
            if chars:
                token.startchar, token.endchar = start_char + start, start_char + end
            yield token
