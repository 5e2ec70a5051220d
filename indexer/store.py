"""The passage store (SQLite): documents, passages and file records, the source of truth.

Ids are stable: a document id derives from its source's key (relative path, plus
the JSONL id) and its report number in the file; a passage id from its
document id and position.
"""
from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterable, Iterator

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    path TEXT NOT NULL,
    title TEXT,
    year INTEGER,
    region TEXT,
    province TEXT,
    issuer TEXT,
    doc_type TEXT,
    url TEXT,
    external_id TEXT,
    n_passages INTEGER NOT NULL,
    -- where each value came from: 'declared' (a source field, the title) or 'inferred' (the body)
    title_source TEXT,
    year_source TEXT,
    region_source TEXT,
    issuer_source TEXT,
    doc_type_source TEXT
);
CREATE TABLE IF NOT EXISTS passages (
    passage_id TEXT PRIMARY KEY,
    doc_id TEXT NOT NULL REFERENCES documents(doc_id),
    position INTEGER NOT NULL,
    heading_path TEXT NOT NULL,
    text TEXT NOT NULL,
    norm TEXT NOT NULL,
    section TEXT NOT NULL DEFAULT 'other',
    -- leading lines of text that are the report's headings (a heading joins the paragraph below it)
    heads INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS passages_doc ON passages(doc_id, position);
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    reason TEXT,
    reports INTEGER NOT NULL DEFAULT 0,
    passages INTEGER NOT NULL DEFAULT 0
);
"""


@dataclass(frozen=True)
class Document:
    doc_id: str
    source: str
    path: str
    title: str | None
    year: int | None
    region: str | None
    province: str | None
    issuer: str | None
    doc_type: str | None
    url: str | None
    external_id: str | None
    n_passages: int
    title_source: str | None = None
    year_source: str | None = None
    region_source: str | None = None
    issuer_source: str | None = None
    doc_type_source: str | None = None


@dataclass(frozen=True)
class StoredPassage:
    passage_id: str
    doc_id: str
    position: int
    heading_path: tuple[str, ...]
    text: str
    norm: str
    section: str = "other"  # the role of its section (indexer/sections.py)
    heads: int = 0  # leading lines of text that are headings (indexer/structure.py)


FACETS = ("region", "year", "issuer", "doc_type")  # of documents
PASSAGE_FACETS = ("section",)  # of passages


def passage_id(doc_id: str, position: int) -> str:
    return f"{doc_id}-{position}"


def doc_id_of(pid: str) -> str:
    """The report a passage id belongs to (ids are `<doc_id>-<position>`)."""
    return pid.rsplit("-", 1)[0]


class PassageStore:
    def __init__(self, path: Path, readonly: bool = False):
        self.path = path
        if readonly:
            uri = f"file:{path}?mode=ro"
            self.db = sqlite3.connect(uri, uri=True, check_same_thread=False)
        else:
            self.db = sqlite3.connect(path, check_same_thread=False)
            self.db.executescript(SCHEMA)
        self.db.row_factory = sqlite3.Row

    def close(self) -> None:
        self.db.close()

    # writing
    def add_document(self, doc: Document, passages: Iterable[StoredPassage]) -> None:
        values = asdict(doc)
        self.db.execute(f"INSERT INTO documents ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})",
                        tuple(values.values()))
        self.db.executemany(
            "INSERT INTO passages VALUES (?,?,?,?,?,?,?,?)",
            [(p.passage_id, p.doc_id, p.position, json.dumps(p.heading_path, ensure_ascii=False), p.text, p.norm,
              p.section, p.heads) for p in passages])

    def record_file(self, path: str, status: str, reason: str | None = None, reports: int = 0,
                    passages: int = 0) -> None:
        self.db.execute("INSERT OR REPLACE INTO files VALUES (?,?,?,?,?)", (path, status, reason, reports, passages))

    def commit(self) -> None:
        self.db.commit()

    # reading
    def document(self, doc_id: str) -> Document | None:
        row = self.db.execute("SELECT * FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()
        return Document(**dict(row)) if row else None

    def documents(self, doc_ids: Iterable[str]) -> dict[str, Document]:
        return {row["doc_id"]: Document(**dict(row)) for row in self._rows_in("documents", "doc_id", doc_ids)}

    def passages(self, passage_ids: Iterable[str]) -> dict[str, StoredPassage]:
        return {row["passage_id"]: _passage(row) for row in self._rows_in("passages", "passage_id", passage_ids)}

    def _rows_in(self, table: str, column: str, values: Iterable[str]) -> Iterator[sqlite3.Row]:
        """Rows whose `column` is one of `values`, queried in chunks under SQLite's variable limit."""
        ids = list(set(values))
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            yield from self.db.execute(f"SELECT * FROM {table} WHERE {column} IN ({','.join('?' * len(chunk))})",
                                       chunk)

    def passage(self, pid: str) -> StoredPassage | None:
        return self.passages([pid]).get(pid)

    def document_passages(self, doc_id: str) -> list[StoredPassage]:
        rows = self.db.execute("SELECT * FROM passages WHERE doc_id = ? ORDER BY position", (doc_id,))
        return [_passage(row) for row in rows]

    def iter_passages(self) -> Iterator[tuple[StoredPassage, Document]]:
        """Every passage with its document, in document order."""
        docs = {row["doc_id"]: Document(**dict(row)) for row in self.db.execute("SELECT * FROM documents")}
        for row in self.db.execute("SELECT * FROM passages ORDER BY doc_id, position"):
            yield _passage(row), docs[row["doc_id"]]

    def norm_texts(self, passage_ids: Iterable[str]) -> dict[str, str]:
        """The normalised text of these passages by id."""
        return {row["passage_id"]: row["norm"] for row in self._rows_in("passages", "passage_id", passage_ids)}

    def document_ids(self) -> list[str]:
        return [row[0] for row in self.db.execute("SELECT doc_id FROM documents")]

    def passage_ids(self) -> list[str]:
        """Every passage id, in the order of `iter_passages`."""
        return [row[0] for row in self.db.execute("SELECT passage_id FROM passages ORDER BY doc_id, position")]

    def files(self) -> list[dict]:
        return [dict(row) for row in self.db.execute("SELECT * FROM files ORDER BY path")]

    def counts(self) -> dict[str, int]:
        one = lambda sql: self.db.execute(sql).fetchone()[0]  # noqa: E731
        return {
            "documents": one("SELECT COUNT(*) FROM documents"),
            "passages": one("SELECT COUNT(*) FROM passages"),
            "files": one("SELECT COUNT(*) FROM files WHERE status = 'indexed'"),
            "skipped_files": one("SELECT COUNT(*) FROM files WHERE status = 'skipped'"),
        }


def _passage(row: sqlite3.Row) -> StoredPassage:
    return StoredPassage(row["passage_id"], row["doc_id"], row["position"], tuple(json.loads(row["heading_path"])),
                         row["text"], row["norm"], row["section"], row["heads"])
