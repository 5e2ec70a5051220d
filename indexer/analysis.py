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

import functools
import logging
import re
from importlib import resources
from typing import Iterator, NamedTuple

from whoosh.analysis import Token, Tokenizer

from .text import WORD_CHAR, mask_placeholders, normalise_aligned

_TERM_CHARS = re.compile(r"[0-9a-z\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


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
    import jieba

    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    for line in _data("userdict.txt").splitlines():
        word = line.strip()
        if word and not word.startswith("#"):
            tokenizer.add_word(word)
    return tokenizer


@functools.lru_cache(maxsize=64)  # the indexer asks for each text twice: ranking arrays and Whoosh
def word_terms(text: str) -> tuple[Term, ...]:
    """Index terms of a text: jieba search-mode words, normalised, without stopwords."""
    norm = mask_placeholders(normalise_aligned(text))
    stop = stopwords()
    out = []
    for word, start, end in _jieba().tokenize(norm, mode="search"):
        word = word.strip()
        if word and word not in stop and _TERM_CHARS.search(word):
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


def phrase_stream(text: str) -> str:
    """The word characters a text's bigrams run over (`bigram_terms`), a placeholder as `\\x00`: a
    phrase's characters (`phrase_chars`) are a substring of it exactly where the phrase matches."""
    return "".join(ch for ch in mask_placeholders(normalise_aligned(text), "\x00")
                   if ch == "\x00" or WORD_CHAR.match(ch))


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
