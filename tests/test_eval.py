"""The eval command's metrics, on a tiny hand-made dataset with known answers."""
from __future__ import annotations

import json

from click.testing import CliRunner

from report_search.cli import main
from report_search.evaluation import mrr, ndcg, recall


def test_metric_functions_on_hand_computed_cases():
    assert ndcg([1, 0, 0], 1) == 1.0
    assert abs(ndcg([0, 1], 1) - 1 / __import__("math").log2(3)) < 1e-12
    assert ndcg([0, 0], 2) == 0.0
    assert mrr([0, 0, 1]) == 1 / 3 and mrr([0] * 12 + [1]) == 0.0
    assert recall([1, 0, 1], 4, 10) == 0.5


def test_eval_on_a_tiny_beir_dataset(tmp_path, backend, milvus_uri):
    """A BEIR folder indexed in a temporary directory (and, for Milvus, collections it drops after)."""
    folder = tmp_path / "tiny"
    folder.mkdir()
    docs = {"d1": "市城管局开展农贸市场专项整治，规范摊位经营秩序。",
            "d2": "市妇联举办巾帼人才招聘会，为女性提供就业岗位。",
            "d3": "区卫健委组织开展病媒生物防制工作，消杀重点区域。"}
    (folder / "corpus.jsonl").write_text("\n".join(json.dumps({"_id": k, "title": "", "text": v},
                                                              ensure_ascii=False) for k, v in docs.items()))
    queries = {"q1": "农贸市场整治", "q2": "巾帼人才招聘会", "q3": "病媒生物防制"}
    (folder / "queries.jsonl").write_text("\n".join(json.dumps({"_id": k, "text": v}, ensure_ascii=False)
                                                    for k, v in queries.items()))
    (folder / "qrels.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\nq3\td3\t1\n")
    from indexer.formats import milvus

    client = milvus.connect(milvus_uri)
    before = set(client.list_collections())
    result = CliRunner().invoke(main, ["eval", str(folder), "--json", "--modes", "keyword,hybrid",
                                       "--backend", backend, "--milvus-uri", milvus_uri])
    assert result.exit_code == 0, result.output
    assert set(client.list_collections()) == before  # nothing left behind in Milvus
    client.close()
    data = json.loads(result.output.strip().splitlines()[-1])
    assert data["queries"] == 3 and set(data["modes"]) == {"keyword", "hybrid"}
    for mode in ("keyword", "hybrid"):
        m = data["modes"][mode]
        assert m["ndcg@10"] == 1.0 and m["mrr@10"] == 1.0 and m["recall@10"] == 1.0
        assert set(m) == {"ndcg@10", "mrr@10", "recall@10", "recall@100", "latency_ms"}


def test_seeds_style_eval_prints_figures_per_kind(corpus_index, backend):
    """The dev queries written for the bundled corpus run in the eval, with a line per query kind."""
    from conftest import ROOT

    queries = ROOT / "bench" / "devqueries" / "seeds-more.jsonl"
    result = CliRunner().invoke(main, ["eval", str(queries), "--index-dir", str(corpus_index), "--json",
                                       "--backend", backend])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output.strip().splitlines()[-1])
    kinds = {json.loads(line)["kind"] for line in queries.read_text(encoding="utf-8").splitlines() if line.strip()}
    assert data["queries"] >= 24 and set(data["kinds"]) == kinds >= {"initiative", "semantic", "phrase"}
    assert data["modes"]["hybrid"]["ndcg@10"] > data["modes"]["semantic"]["ndcg@10"] * 0.9
    text = CliRunner().invoke(main, ["eval", str(queries), "--index-dir", str(corpus_index), "--modes", "hybrid",
                                     "--backend", backend])
    assert "kind phrase" in text.output and "kind semantic" in text.output
