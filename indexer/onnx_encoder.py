"""The query-time encoder: the embedding model exported to ONNX, run with ONNX Runtime.

Importing PyTorch, transformers and sentence-transformers takes about four seconds;
ONNX Runtime and a tokenizer load in a fraction of one. The indexer exports the
model it embedded with (float32, the same weights) and checks the export against
it on sample texts; queries are then embedded without PyTorch. Only models that
are a transformer, mean pooling and optionally normalisation, with a fast
tokenizer, are exported (m3e-small is); other models keep sentence-transformers.

On disk, one folder per model variant (this module is the only one that reads or writes it):

    model.onnx       the transformer, inputs as named in meta.json, output the token states
    tokenizer.json   the fast tokenizer
    meta.json        input names, max_seq_length, dimension, padding token
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Sequence

import numpy as np

EXPORT_CHECK_COSINE = 0.9999  # an export whose vectors differ more than this is not used


def exportable(model) -> bool:
    """Whether a SentenceTransformer is a transformer + mean pooling (+ normalise) with a fast tokenizer."""
    kinds = [type(m).__name__ for m in model]
    if kinds[:2] != ["Transformer", "Pooling"] or any(k != "Normalize" for k in kinds[2:]):
        return False
    pooling = model[1].get_config_dict()
    mode = pooling.get("pooling_mode") or ("mean" if pooling.get("pooling_mode_mean_tokens") else None)
    return mode == "mean" and getattr(model.tokenizer, "backend_tokenizer", None) is not None


def export(model, folder: Path, samples: Sequence[str]) -> bool:
    """Write the ONNX encoder of `model` into `folder` if it is exportable and its
    vectors match the model's on `samples`. Returns whether the folder is usable."""
    if not exportable(model):
        return False
    import torch

    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in model.tokenizer.model_input_names]
    transformer = model[0].auto_model.eval()

    class Wrapper(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.transformer = transformer

        def forward(self, *inputs):
            return self.transformer(**dict(zip(names, inputs)), return_dict=False)[0]

    example = model.tokenizer(["示例文本", "再来一句"], padding=True, return_tensors="pt")
    dynamic = {n: {0: "batch", 1: "tokens"} for n in names + ["states"]}
    import warnings

    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(Wrapper(), tuple(example[n] for n in names), str(tmp / "model.onnx"), input_names=names,
                          output_names=["states"], dynamic_axes=dynamic, opset_version=17, dynamo=False)
    model.tokenizer.backend_tokenizer.save(str(tmp / "tokenizer.json"))
    meta = {"inputs": names, "max_seq_length": int(model.max_seq_length), "dimension": int(model[1].get_config_dict()
            .get("embedding_dimension") or model.get_sentence_embedding_dimension()),
            "pad_id": int(model.tokenizer.pad_token_id or 0), "pad_token": model.tokenizer.pad_token or "[PAD]"}
    (tmp / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    ours = OnnxEncoder(tmp).encode(list(samples))
    theirs = model.encode(list(samples), normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
    if float((ours * theirs).sum(axis=1).min()) < EXPORT_CHECK_COSINE:
        shutil.rmtree(tmp, ignore_errors=True)
        return False
    shutil.rmtree(folder, ignore_errors=True)
    tmp.rename(folder)
    return True


class OnnxEncoder:
    """Unit vectors for texts, as the exported model's SentenceTransformer gives them."""

    def __init__(self, folder: Path, threads: int | None = None):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=self.meta["max_seq_length"])
        self.tokenizer.enable_padding(pad_id=self.meta["pad_id"], pad_token=self.meta["pad_token"])
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        self.session = ort.InferenceSession(str(folder / "model.onnx"), options, providers=["CPUExecutionProvider"])

    def get_sentence_embedding_dimension(self) -> int:
        return int(self.meta["dimension"])

    def encode(self, texts: Sequence[str], batch_size: int = 32, normalize_embeddings: bool = True,
               **_ignored) -> np.ndarray:
        out = []
        for start in range(0, len(texts), batch_size):
            batch = self.tokenizer.encode_batch(list(texts[start:start + batch_size]))
            arrays = {"input_ids": np.array([e.ids for e in batch], dtype=np.int64),
                      "attention_mask": np.array([e.attention_mask for e in batch], dtype=np.int64),
                      "token_type_ids": np.array([e.type_ids for e in batch], dtype=np.int64)}
            states = self.session.run(None, {n: arrays[n] for n in self.meta["inputs"]})[0]
            mask = arrays["attention_mask"][..., None].astype(np.float32)
            vectors = (states * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
            if normalize_embeddings:
                vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
            out.append(vectors.astype(np.float32))
        return np.concatenate(out) if out else np.zeros((0, self.meta["dimension"]), dtype=np.float32)
