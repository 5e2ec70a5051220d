"""How `report-search serve` runs the app: waitress in one process per core, all taking connections
from one listening socket, at most one request computing per core.

A query is CPU work that holds Python's GIL part of the time (the fusion, the highlights, Flask), so
threads of one process cannot fill two cores; processes can (bench/README.md, "Serving"). A request
uses the cores the others leave: while it is the only one computing, its sentence products are split
over the cores and its semantic side runs beside its words' (search/engine.py `side_by_side`);
under load each request keeps to one core, where splitting would only add overhead.
"""
from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import sys
import threading
from multiprocessing.connection import wait

MAX_HEADER_BYTES = 64 * 1024


class Load:
    """Requests computing now, counted across every process of the server (shared memory)."""

    def __init__(self, context, cores: int):
        self.cores = cores
        self._count = context.Value("i", 0)

    def spare(self) -> bool:
        """Whether a core is idle besides the asking request's: no other request is computing."""
        return self._count.value < self.cores

    def gate(self, app, slots: int):
        """WSGI middleware: at most `slots` requests of this process compute at once (the rest wait
        their turn), each counted in the load while it does."""
        slot = threading.BoundedSemaphore(slots)
        count = self._count

        def gated(environ, start_response):
            with slot:
                with count.get_lock():
                    count.value += 1
                try:
                    result = app(environ, start_response)
                    try:
                        return list(result)  # the body is built inside the gate
                    finally:
                        if hasattr(result, "close"):  # Flask's teardown runs on close (PEP 3333)
                            result.close()
                finally:
                    with count.get_lock():
                        count.value -= 1
        return gated


def serve(config: dict, host: str, port: int, workers: int, threads: int, announce=None) -> None:
    """Serve create_app(config) on host:port from `workers` processes (1: this one) of `threads`
    threads each, until interrupted; `announce()` once the port is taken (and, in one process, the app
    made). A worker that stops stops the server (its message on stderr)."""
    cores = os.cpu_count() or 1
    context = multiprocessing.get_context("spawn")  # each worker starts clean: no inherited threads
    load = Load(context, cores)
    try:
        listener = socket.create_server((host, port), backlog=2048)
    except OSError as exc:
        raise SystemExit(f"Error: cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    slots = max(1, cores // workers)
    if workers == 1:  # announced once the app is made: the index may be missing
        _worker(config, listener, load, slots, threads, child=False, announce=announce)
        return
    if announce:  # the caller checked the index before
        announce()
    processes = [context.Process(target=_worker, args=(config, listener, load, slots, threads), daemon=True,
                                 name=f"report-search-worker-{i + 1}") for i in range(workers)]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        for process in processes:
            process.start()
        listener.close()  # the workers hold it
        stopped = wait([p.sentinel for p in processes])
        code = next(p.exitcode for p in processes if p.sentinel in stopped)
        raise SystemExit(f"a server process stopped (exit code {code}): the server stops too")
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()
        for process in processes:
            process.join(timeout=10)


def _worker(config: dict, listener: socket.socket, load: Load, slots: int, threads: int, child: bool = True,
            announce=None) -> None:
    from threadpoolctl import threadpool_limits
    from waitress import serve as waitress_serve

    from .app import MAX_REQUEST_BYTES, accept_unencoded_urls, create_app

    if child:
        _stop_with_parent()
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent stops us
    options = {**(config.get("ENGINE_OPTIONS") or {}), "side_by_side": load.spare}
    try:
        app = create_app({**config, "ENGINE_OPTIONS": options})
    except Exception as exc:  # noqa: BLE001 - the parent checked the index; say what failed here, once
        if not child:
            raise  # the caller's own handling (the CLI's one line for expected errors)
        print(f"Error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    if announce:
        announce()
    accept_unencoded_urls()
    # One BLAS thread per request: a matrix product on two BLAS threads per request made 8 clients
    # slower than 1 (oversubscription); an idle server splits the large products itself.
    threadpool_limits(1, user_api="blas")
    waitress_serve(load.gate(app, slots), sockets=[listener], threads=threads,
                   max_request_body_size=MAX_REQUEST_BYTES, max_request_header_size=MAX_HEADER_BYTES)


def _stop_with_parent() -> None:
    """Have the kernel stop this process when its parent dies, however it dies (Linux)."""
    if sys.platform.startswith("linux"):
        import ctypes

        with_errno = ctypes.CDLL(None, use_errno=True)
        with_errno.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
