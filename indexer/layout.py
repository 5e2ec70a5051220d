"""The index directory: which files live where, the manifest, and the build lock.

Layout of an index directory:

    manifest.json          points at the active build; replaced atomically
    builds/<build-id>/     one complete index version (passages.sqlite, keyword/, vectors.*, phrases.*,
                           duplicates.npz)
    cache/embeddings.sqlite  embedding cache shared by all builds
    cache/onnx/<variant>/    a model converted or exported to ONNX (indexer/e5_onnx.py, indexer/onnx_encoder.py)
    index.lock             held by the indexer that is writing

Readers read the manifest and open the build it names; the indexer writes a new
build beside the old one and switches by replacing the manifest. This is the
only module that builds paths inside an index directory.
"""
from __future__ import annotations

import fcntl
import json
import os
import shutil
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

# 2: ranking arrays beside the Whoosh index; 3: encoder description; 4: section roles, formulations;
# 5: where each document's metadata came from; 6: a heading joins the paragraph below it (passages.heads)
FORMAT_VERSION = 6
MANIFEST = "manifest.json"


def user_cache() -> Path:
    """What this user's indexes share (converted models, stored dictionaries): $REPORT_SEARCH_CACHE,
    else $XDG_CACHE_HOME/report-search, else ~/.cache/report-search."""
    return Path(os.environ.get("REPORT_SEARCH_CACHE") or Path(
        os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "report-search")


def keep_file(path: Path, write: Callable[[Path], None]) -> None:
    """A file of the user's cache, written by `write` to a temporary file renamed into place (a reader
    finds the old file or the new one, whole); nothing is kept where it cannot be written."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}{path.suffix}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write(tmp)
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)


class IndexUnavailable(Exception):
    """The index directory is missing, from another version, or in use."""


@dataclass(frozen=True)
class Build:
    """Paths of one index version."""

    root: Path

    @property
    def passages(self) -> Path:
        return self.root / "passages.sqlite"

    @property
    def keyword(self) -> Path:
        return self.root / "keyword"

    @property
    def vectors(self) -> Path:
        return self.root / "vectors.faiss"

    @property
    def second_vectors(self) -> Path:
        """The second model's passage vectors (BuildOptions.second_model)."""
        return self.root / "vectors.second.faiss"


class IndexDir:
    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    @property
    def embedding_cache(self) -> Path:
        return self.path / "cache" / "embeddings.sqlite"

    def model_folder(self, variant: str) -> Path:
        """The folder of a model variant's ONNX files (shared by all builds)."""
        import hashlib

        return self.path / "cache" / "onnx" / hashlib.sha1(variant.encode("utf-8")).hexdigest()[:12]

    def read_manifest(self) -> dict:
        """The active manifest. Raises IndexUnavailable saying what to run."""
        try:
            manifest = json.loads((self.path / MANIFEST).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise IndexUnavailable(f"no index in {self.path}: run `report-search index` first") from None
        except (OSError, ValueError) as exc:
            raise IndexUnavailable(f"unreadable manifest in {self.path} ({exc}): re-run `report-search index`") from None
        if manifest.get("format_version") != FORMAT_VERSION:
            raise IndexUnavailable(
                f"index in {self.path} has format {manifest.get('format_version')}, this version reads "
                f"{FORMAT_VERSION}: re-run `report-search index`")
        return manifest

    def manifest_stamp(self) -> tuple[int, int] | None:
        """Changes whenever a new manifest is published (cheap to poll)."""
        try:
            st = (self.path / MANIFEST).stat()
        except OSError:
            return None
        return st.st_mtime_ns, st.st_ino

    def active_build(self, manifest: dict | None = None) -> Build:
        manifest = manifest or self.read_manifest()
        return Build(self.path / "builds" / manifest["build"])

    def new_build(self) -> tuple[str, Build]:
        build_id = time.strftime("%Y%m%d-%H%M%S") + "-" + uuid.uuid4().hex[:6]
        build = Build(self.path / "builds" / build_id)
        build.root.mkdir(parents=True)
        return build_id, build

    def publish(self, manifest: dict) -> None:
        """Make a finished build the active one, atomically, then drop old builds.

        The build active until now is kept: running servers still read it until
        they notice the new manifest and switch."""
        try:
            previous = json.loads((self.path / MANIFEST).read_text(encoding="utf-8")).get("build")
        except (OSError, ValueError):
            previous = None
        manifest = {"format_version": FORMAT_VERSION, **manifest}
        tmp = self.path / f".{MANIFEST}.{uuid.uuid4().hex[:6]}.tmp"
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(manifest, handle, ensure_ascii=False, indent=2)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.path / MANIFEST)
        self.remove_stale_builds(keep={manifest["build"], previous})

    def remove_stale_builds(self, keep: set[str], grace_seconds: float = 60.0) -> None:
        """Delete builds that are neither active nor recent (a server may still read
        the previous one for a moment), and leftovers of interrupted runs."""
        builds = self.path / "builds"
        if not builds.exists():
            return
        now = time.time()
        for entry in builds.iterdir():
            if entry.name in keep:
                continue
            if now - entry.stat().st_mtime > grace_seconds:
                shutil.rmtree(entry, ignore_errors=True)
        for tmp in self.path.glob(f".{MANIFEST}.*.tmp"):
            tmp.unlink(missing_ok=True)

    def build_ids(self) -> set[str]:
        """The builds on disk (the active one, the one before it and recent leftovers)."""
        builds = self.path / "builds"
        return {entry.name for entry in builds.iterdir()} if builds.exists() else set()

    def lock(self) -> "_Lock":
        self.path.mkdir(parents=True, exist_ok=True)
        return _Lock(self.path / "index.lock")


class _Lock:
    """An exclusive, non-blocking lock on the index directory (released on exit or crash)."""

    def __init__(self, path: Path):
        self.path = path
        self.handle = None

    def __enter__(self):
        self.handle = open(self.path, "a+")
        try:
            fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.handle.close()
            raise IndexUnavailable(f"another indexer is writing to {self.path.parent}; wait for it to finish") from None
        return self

    def __exit__(self, *exc):
        fcntl.flock(self.handle, fcntl.LOCK_UN)
        self.handle.close()
