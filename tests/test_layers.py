"""The package's layers point one way (issue "One direction"): `indexer` writes and reads the index
formats and imports nothing above it; `search` ranks over those formats and never imports the build
pipeline; `web` and `report_search` sit on top. No two modules import each other, directly or through
others, whether the import is at the top of a file or inside a function."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("indexer", "search", "web", "report_search")
# What each package may import from the others.
ALLOWED = {"indexer": set(), "search": {"indexer"}, "web": {"indexer", "search"},
           "report_search": {"indexer", "search", "web"}}
# Build-side modules of `indexer` that `search` must not import (it reads formats, it does not build).
BUILD_ONLY = {"indexer.pipeline", "indexer.readers", "indexer.cleaning", "indexer.embedding", "indexer.writers"}


def modules() -> dict[str, Path]:
    out = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The package modules a module imports, anywhere in its file."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")
                parent = parent[:len(parent) - node.level + 1]
                base = ".".join(parent + ([base] if base else []))
            targets = [f"{base}.{a.name}" for a in node.names] + [base]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name and target not in PACKAGES:  # `from search import x` names search.x
                found.add(target)
    return found


def base_of(name: str) -> str:
    return name.split(".")[0]


def graph() -> dict[str, set[str]]:
    found = modules()
    known = set(found)
    return {name: imports(name, path, known) for name, path in found.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycle():
    assert cycles(graph()) == []


def test_layers_point_one_way():
    wrong = sorted(f"{name} imports {target}" for name, targets in graph().items() for target in targets
                   if base_of(target) != base_of(name) and base_of(target) not in ALLOWED[base_of(name)])
    assert wrong == []


def test_search_reads_formats_not_the_build():
    wrong = sorted(f"{name} imports {target}" for name, targets in graph().items() for target in targets
                   if base_of(name) == "search" and target in BUILD_ONLY)
    assert wrong == []


def test_the_checker_sees_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
