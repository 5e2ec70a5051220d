"""The engine a server uses, switched to a new index version when one is published."""
from __future__ import annotations

import logging
import threading
import time

from indexer.layout import IndexDir, IndexUnavailable
from search.engine import Engine, SearchSettings

log = logging.getLogger(__name__)


class EngineHolder:
    """Hands out the current Engine; at most every `interval` seconds it checks the
    index directory's manifest and, if a new build was published, opens it and
    switches. Requests in flight keep the engine they started with."""

    def __init__(self, index_dir: str, load_model: bool = True, interval: float = 1.0,
                 settings: SearchSettings = SearchSettings(), options: dict | None = None):
        self.directory = IndexDir(index_dir)
        self.load_model = load_model
        self.interval = interval
        self._stamp = self.directory.manifest_stamp()
        self.options = options or {}  # Engine's backend, milvus_uri and side_by_side
        self._engine = Engine(index_dir, settings=settings, load_model=load_model, **self.options)
        self._checked = time.monotonic()
        self._lock = threading.Lock()

    def get(self) -> Engine:
        now = time.monotonic()
        if now - self._checked >= self.interval and self._lock.acquire(blocking=False):
            try:
                self._checked = now
                self._maybe_switch()
            finally:
                self._lock.release()
        return self._engine

    def _maybe_switch(self) -> None:
        stamp = self.directory.manifest_stamp()
        if stamp is None or stamp == self._stamp:
            return
        try:
            fresh = Engine(self.directory.path, settings=self._engine.settings, load_model=self.load_model,
                           **self.options)
        except (IndexUnavailable, OSError) as exc:
            log.warning("new index version not loaded yet: %s", exc)
            return
        if fresh.manifest.get("build") != self._engine.manifest.get("build"):
            log.info("switched to index build %s", fresh.manifest.get("build"))
            self._engine = fresh
        self._stamp = stamp
