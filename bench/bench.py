"""Benchmark: indexing throughput, embedding speed, query latency through the server, scale.

Usage: .venv/bin/python bench/bench.py [--corpus PATH] [--work DIR] [--queries N]
                                       [--scale-copies N] [--only PARTS]

Prints figures, asserts nothing. Everything runs on this machine, side by side:
1. indexing: ingest + keyword index alone, then the full build (embedding from an
   empty cache), then the same corpus again (nothing changed: the up-to-date check);
   characters/s, passages/s, index size on disk and the indexer's peak RSS;
2. embedding: plain `SentenceTransformer.encode`, ours, and ours with int8 weights,
   on the same passages, as ratios, with the mean cosine to the plain vectors;
3. start-up: process start to first answer of `report-search search`;
4. queries through a running server (waitress, loopback), per mode: p50/p95/p99
   with 1 client, queries/s and p99 with 8 clients;
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
CLI = [sys.executable, "-m", "report_search.cli"]
ENV = {**os.environ, "HF_HUB_OFFLINE": "1"}
DEFAULT_CORPUS = ROOT.parent / "shared" / "data" / "gov-reports" / "gov_reports.jsonl"
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
    print(f"full build (empty cache): {t_full:.1f} s; embedding ≈ {t_embed:.1f} s = "
          f"{passages / t_embed:.1f} passages/s, {chars / t_embed:,.0f} chars/s")
    t_again, _, _ = run(CLI + ["index", corpus, "--index-dir", str(full_dir), "--quiet"])
    print(f"re-index unchanged corpus: {t_again:.1f} s = {t_again / t_full:.1%} of the first build")
    build = json.loads((full_dir / "manifest.json").read_text())["build"]
    print(f"index size on disk: {size_mb(full_dir / 'builds' / build):.1f} MB "
          f"(+ embedding cache {size_mb(full_dir / 'cache'):.1f} MB); indexer peak RSS ≤ {max(rss_kw, rss_full)} MB")
    return full_dir


def bench_embedding(index_dir: Path, n: int = 300) -> None:
    print("== embedding speed, the same passages side by side")
    from indexer.embedding import encode, load_model
    from search.engine import Engine

    engine = Engine(index_dir, load_model=False)
    texts = [row[0] for row in engine.store.db.execute(
        "SELECT text FROM passages ORDER BY passage_id LIMIT ?", (n,))]
    name, length = engine.manifest["model"], engine.manifest.get("max_seq_length", 256)
    plain_model, int8_model = load_model(name, length), load_model(name, length, True)
    short_int8 = load_model(name, 192, True)
    runs = {"plain SentenceTransformer.encode": lambda: plain_model.encode(texts, batch_size=32,
                                                                           normalize_embeddings=True),
            "ours (length-sorted batches)": lambda: encode(plain_model, texts),
            "ours, int8 (--int8)": lambda: encode(int8_model, texts),
            "ours, int8, 192 tokens (--int8 --max-tokens 192)": lambda: encode(short_int8, texts)}
    seconds = {}
    for label, fn in runs.items():
        fn()  # warm up
        started = time.perf_counter()
        vectors = fn()
        seconds[label] = time.perf_counter() - started
        if label.startswith("plain"):
            reference = vectors
        cos = float((reference * vectors).sum(1).mean())
        print(f"{label}: {len(texts) / seconds[label]:.1f} passages/s, "
              f"{sum(map(len, texts)) / seconds[label]:,.0f} chars/s, "
              f"{seconds['plain SentenceTransformer.encode'] / seconds[label]:.2f}x plain, "
              f"mean cosine to plain {cos:.4f}")


def bench_startup(work: Path, runs: int = 3) -> None:
    bundled = work / "bundled"
    run(CLI + ["index", "corpus", "--index-dir", str(bundled), "--quiet"])
    times = [run(CLI + ["search", "城市管理", "--index-dir", str(bundled), "--mode", "hybrid"])[0] for _ in range(runs)]
    print(f"== start-up: process start to first hybrid answer of `report-search search` on corpus/: "
          f"median {statistics.median(times):.2f} s ({', '.join(f'{t:.2f}' for t in times)})")


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
def serving(index_dir: Path):
    """`report-search serve` on a free loopback port, for the duration; yields its base URL."""
    from socket import socket

    with socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(CLI + ["serve", "--index-dir", str(index_dir), "--port", str(port)], cwd=ROOT, env=ENV,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
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


def bench_server(index_dir: Path, n: int) -> None:
    with serving(index_dir) as base:
        print(f"== queries through the server ({len(QUERIES)} distinct queries, k=10)")
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
        bench_embedding(index_dir)
    if "startup" in parts:
        bench_startup(work)
    if "server" in parts:
        bench_server(index_dir, args.queries)
    if "scale" in parts:
        bench_scale(args.corpus, work, args.scale_copies or 14)


if __name__ == "__main__":
    main()
