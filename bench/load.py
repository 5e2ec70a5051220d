"""Load test: concurrent clients against a real server on loopback, mixed requests.

Usage: .venv/bin/python bench/load.py [--index-dir DIR | --url URL] [--clients 16] [--seconds 60]

Starts `report-search serve` on the index (or uses a running server at --url),
then for the given time has each client send a mix of requests: the three modes,
filters, pagination, similar passages, a few bad requests (which must get a 400,
never a 5xx). Prints requests, queries/s, status counts and p50/p95/p99.
Asserts nothing; the figure that matters is `5xx: 0`.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import random
import sys
import urllib.request
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import QUERIES, percentiles, run_clients, serving  # noqa: E402


FILTERS = {"region": ["浙江", "广东", "四川"], "year": ["2025", "2024"], "year_from": ["2020"], "doc_type": ["政府工作报告"]}


def request_mix(base: str, passage_ids: list[str], n: int = 2000, seed: int = 7) -> list[str]:
    """A shuffled list of request URLs: searches in every mode with filters and pages, similar
    passages, reading passages, and requests with bad parameters."""
    rng = random.Random(seed)
    urls = []
    for _ in range(n):
        kind = rng.random()
        if kind < 0.75:
            params = {"q": rng.choice(QUERIES), "mode": rng.choice(["hybrid", "keyword", "semantic"]),
                      "k": rng.choice([10, 10, 20, 50]), "offset": rng.choice([0, 0, 10, 20])}
            if rng.random() < 0.3:
                name = rng.choice(list(FILTERS))
                params[name] = rng.choice(FILTERS[name])
            urls.append(f"{base}/api/search?{urlencode(params)}")
        elif kind < 0.85 and passage_ids:
            urls.append(f"{base}/api/passages/{rng.choice(passage_ids)}/similar?k=10")
        elif kind < 0.95 and passage_ids:
            urls.append(f"{base}/api/passages/{rng.choice(passage_ids)}")
        else:
            urls.append(rng.choice([f"{base}/api/search?q=&mode=hybrid", f"{base}/api/search?q=x&k=100000",
                                    f"{base}/api/search?q=x&mode=fuzzy", f"{base}/api/search?{urlencode({'q': '长' * 5000})}",
                                    f"{base}/api/passages/no-such-id"]))
    return urls


def sample_ids(base: str) -> list[str]:
    with urllib.request.urlopen(f"{base}/api/search?{urlencode({'q': '发展', 'mode': 'keyword', 'k': 100})}") as r:
        return [hit["passage_id"] for hit in json.loads(r.read())["results"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--index-dir", default=".report-search")
    parser.add_argument("--url", help="a running server to load instead of starting one")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    server = contextlib.nullcontext(args.url.rstrip("/")) if args.url else serving(Path(args.index_dir))
    with server as base:
        urls = request_mix(base, sample_ids(base))
        times, statuses, elapsed = run_clients(urls, args.clients, args.seconds)
    counts = Counter(statuses)
    p50, p95, p99 = percentiles(times)
    print(f"{args.clients} clients for {elapsed:.0f} s on loopback: {len(statuses)} requests, "
          f"{len(statuses) / elapsed:.1f} requests/s")
    print("statuses: " + ", ".join(f"{code}: {n}" for code, n in sorted(counts.items())))
    print(f"5xx: {sum(n for code, n in counts.items() if code >= 500)}; no answer: {counts.get(0, 0)}")
    print(f"latency: p50 {p50:.0f} ms, p95 {p95:.0f} ms, p99 {p99:.0f} ms")


if __name__ == "__main__":
    main()
