"""The engine as tools for AI agents: `report-search mcp` answers the official SDK's client over
stdio and over streamable HTTP; every tool called, a bad argument a tool error, not a crash."""
from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time

import pytest

from conftest import ROOT, free_port

TOOLS = {"search", "compare", "outline", "phrases", "similar", "passage", "documents", "document"}


async def _exercise(client) -> None:
    tools = {t.name for t in (await client.list_tools()).tools}
    assert tools == TOOLS
    found = await client.call_tool("search", {"query": "垃圾分类", "mode": "keyword", "k": 3, "section": "存在问题,下一步打算"})
    assert not found.is_error
    result = found.structured_content
    assert result["total"] >= len(result["results"]) > 0
    first = result["results"][0]
    assert first["citation"].startswith("——《") and first["section"] in ("problems", "plans")
    for name, arguments in (("compare", {"query": "垃圾分类", "by": "year", "mode": "keyword"}),
                            ("phrases", {"query": "城市管理", "k": 5}),
                            ("outline", {"topic": "垃圾分类", "k": 2}),
                            ("similar", {"passage_id": first["passage_id"], "k": 3}),
                            ("passage", {"passage_id": first["passage_id"], "context": 1}),
                            ("document", {"doc_id": first["doc_id"]})):
        answer = await client.call_tool(name, arguments)
        assert not answer.is_error and answer.structured_content, (name, answer)
    listed = (await client.call_tool("documents", {"k": 2})).structured_content
    assert listed["total"] == 18 and len(listed["documents"]) == 2 and "year_source" in listed["documents"][0]
    with_year = (await client.call_tool("documents", {"year_from": 2020, "year_to": 2020, "k": 100})).structured_content
    assert 0 < with_year["total"] < 18 and all(d["year"] == 2020 for d in with_year["documents"])
    # bad arguments: the API's messages, as tool errors
    for name, arguments, named in (("search", {"query": "垃圾分类", "k": 0}, "'k' must be from 1 to 100"),
                                   ("search", {"query": "垃圾分类", "section": "问题"}, "section"),
                                   ("passage", {"passage_id": "no-such"}, "no-such"),
                                   ("compare", {"query": "垃圾分类", "by": "city"}, "'by'"),
                                   ("outline", {"topic": "垃圾分类", "phrases": 99}, "'phrases'")):
        answer = await client.call_tool(name, arguments)
        assert answer.is_error and named in answer.content[0].text, (name, answer.content[0].text)
    stats = await client.read_resource("report-search://stats")
    assert '"counts"' in stats.contents[0].text


def test_mcp_over_stdio(corpus_index):
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters

    server = StdioServerParameters(command=sys.executable, cwd=str(ROOT),
                                   args=["-m", "report_search.cli", "mcp", "--index-dir", str(corpus_index)],
                                   env={**os.environ, "HF_HUB_OFFLINE": "1"})

    async def run() -> None:
        async with Client(server, read_timeout_seconds=120) as client:
            await _exercise(client)

    asyncio.run(run())


@pytest.fixture
def http_server(corpus_index):
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "report_search.cli", "mcp", "--http", "--port", str(port),
                             "--index-dir", str(corpus_index)], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    try:
        for _ in range(240):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert proc.poll() is None, "the MCP server exited"
                time.sleep(0.5)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_mcp_over_streamable_http(http_server):
    from mcp import Client

    async def run() -> None:
        async with Client(http_server, read_timeout_seconds=120) as client:
            await _exercise(client)

    asyncio.run(run())
