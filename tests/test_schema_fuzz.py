"""Schemathesis (property-based requests generated from /openapi.json) against a live server on the
bundled corpus, every endpoint, every check: 0 failures. Stateful links are followed too (from
results to passages, similar passages and documents; from formulations to their examples)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import running_server

SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"  # a test dependency (pyproject.toml)


def test_the_api_holds_to_its_openapi_document(corpus_index, backend, tmp_path):
    with running_server(corpus_index, backend) as url:
        run = subprocess.run([str(SCHEMATHESIS), "run",
                              f"{url}/openapi.json", "--checks", "all", "--max-examples", "40", "--seed", "7",
                              "--report-dir", str(tmp_path)],
                             cwd=tmp_path, capture_output=True, text=True, timeout=900)
    summary = run.stdout[-3000:]
    assert run.returncode == 0, summary
    assert "passed" in summary and "11/11" in summary  # every operation tested
