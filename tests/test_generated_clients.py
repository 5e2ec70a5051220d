"""Programs are users too: clients generated from /openapi.json by openapi-python-client (Python)
and openapi-typescript (TypeScript) work against a live server and type-check (issue "For
programs"). Regenerate by hand the same way:

    openapi-python-client generate --url http://HOST/openapi.json --meta none --output-path rsclient
    npx openapi-typescript http://HOST/openapi.json -o schema.d.ts
"""
from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import urllib.request
import zipfile
from pathlib import Path

import pytest

from conftest import running_server

HERE = Path(__file__).resolve().parent / "clients"
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def live(corpus_index):
    with running_server(corpus_index, "embedded") as url:
        yield url


@pytest.fixture(scope="module")
def spec_file(live, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("spec") / "openapi.json"
    path.write_bytes(urllib.request.urlopen(live + "/openapi.json", timeout=30).read())
    return path


def test_generated_python_client_calls_every_operation_and_type_checks(live, spec_file, tmp_path):
    from docx import Document

    subprocess.run([str(BIN / "openapi-python-client"), "generate", "--path", str(spec_file), "--meta", "none",
                    "--output-path", str(tmp_path / "rsclient")], check=True, capture_output=True, timeout=300)
    program = tmp_path / "use_client.py"
    shutil.copy(HERE / "use_client.py", program)
    run = subprocess.run([sys.executable, str(program), live, str(tmp_path)], cwd=tmp_path, capture_output=True,
                         text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(tmp_path)})
    assert run.returncode == 0, run.stdout + run.stderr
    called = run.stdout.split()
    operations = {op["operationId"] for path in json.loads(spec_file.read_text())["paths"].values() for op in path.values()}
    assert operations <= {c.split("(")[0] for c in called}, operations - set(called)  # every operation, through the client
    # the files come back byte for byte as the server sends them (a docx's own clock aside: its text)
    query = live + "/api/export?q=%E5%9E%83%E5%9C%BE%E5%88%86%E7%B1%BB&k=3&format="
    assert (tmp_path / "search.csv").read_bytes() == urllib.request.urlopen(query + "csv", timeout=60).read()
    served = zipfile.ZipFile(io.BytesIO(urllib.request.urlopen(query + "docx", timeout=60).read()))
    assert zipfile.ZipFile(tmp_path / "search.docx").read("word/document.xml") == served.read("word/document.xml")
    assert Document(str(tmp_path / "search.docx")).paragraphs[0].text == "“垃圾分类”检索结果摘编"
    assert "批注：开头用" in [p.text for p in Document(str(tmp_path / "basket.docx")).paragraphs]
    assert Document(str(tmp_path / "outline.docx")).paragraphs[0].text == "“垃圾分类”写作提纲"
    assert Document(str(tmp_path / "report.docx")).paragraphs[-1].text.startswith("——《")
    # mypy --strict on the generated package and the program; the generator's own client.py passes
    # `*args: object` to httpx's __aexit__ (its template, not our spec), so that one error code is
    # switched off for that one module.
    (tmp_path / "mypy.ini").write_text("[mypy]\nstrict = True\n[mypy-rsclient.client]\ndisable_error_code = arg-type\n")
    check = subprocess.run([str(BIN / "mypy"), "--config-file", "mypy.ini", "rsclient", "use_client.py"],
                           cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert check.returncode == 0, check.stdout[-3000:]


@pytest.mark.skipif(not shutil.which("npm"), reason="needs node and npm (Debian: nodejs, npm)")
def test_generated_typescript_types_check(spec_file, tmp_path):
    for name in ("package.json", "use_client.ts"):
        shutil.copy(HERE / name, tmp_path / name)
    subprocess.run(["npm", "install", "--silent", "--no-audit", "--no-fund"], cwd=tmp_path, check=True,
                   capture_output=True, timeout=600)
    subprocess.run(["npx", "openapi-typescript", str(spec_file), "-o", "schema.d.ts"], cwd=tmp_path, check=True,
                   capture_output=True, timeout=300)
    check = subprocess.run(["npx", "tsc", "--noEmit", "--strict", "--target", "es2020", "--moduleResolution", "node",
                            "schema.d.ts", "use_client.ts"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert check.returncode == 0, check.stdout[-3000:]


def test_an_unencoded_chinese_url_reaches_the_api(live):
    """`curl 'http://…/api/search?q=城管'` sends the UTF-8 bytes as they are: the API answers them, in
    JSON (errors too), where waitress alone answered a plain-text `Bad URI`."""
    import socket
    from urllib.parse import urlsplit

    def raw(target: str) -> tuple[str, dict]:
        url = urlsplit(live)
        with socket.create_connection((url.hostname, url.port), timeout=60) as s:
            s.sendall(b"GET " + target.encode("utf-8") + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            data = b"".join(iter(lambda: s.recv(65536), b""))
        head, _, body = data.partition(b"\r\n\r\n")
        assert b"application/json" in head, head
        return head.split(b"\r\n", 1)[0].decode(), json.loads(body)

    status, body = raw("/api/search?q=垃圾分类&k=2")
    assert " 200 " in status and body["query"] == "垃圾分类" and body["results"]
    status, body = raw("/api/search?q=垃圾分类&k=零")
    assert " 400 " in status and "'k' must be a whole number" in body["error"]["message"]
    status, body = raw("/api/passages/不存在")
    assert " 404 " in status and "不存在" in body["error"]["message"]
