"""The run viewer: a local web page over a run store, updated live while runs progress.

.. code-block:: console

    $ python -m cayley.tracking.viewer --store .cayley/runs.db --port 8241
    cayley run viewer on http://127.0.0.1:8241/ (store .cayley/runs.db); Ctrl-C stops it

It serves, on the loopback interface only:

- ``/``: the runs, newest first, filtered by project and status;
- ``/runs/<run_id>``: the run's graph coloured by node status and labelled with times,
  fan-out blocks as groups with done/failed/total item counts, a timeline of tasks per
  worker, and the error with its traceback, node and item;
- a JSON API: ``GET /api/runs`` (``?project=&status=&limit=``), ``GET /api/projects``,
  ``GET /api/runs/<run_id>``, ``GET /api/runs/<run_id>/nodes/<node>/items``;
- server-sent events: ``GET /api/runs/<run_id>/events`` sends the run (``event: run``)
  each time it changes until it ends; ``GET /api/events`` sends ``event: runs`` whenever
  the list changes.

The viewer reads the database only (see :mod:`cayley.tracking.queries`) and imports nothing
of the engine. Starlette and uvicorn are optional: ``pip install "cayley[ui]"``.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import os
import socket
import sys
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

from cayley.tracking.queries import RunStore

__all__ = ["ViewerServer", "create_app", "main", "serve"]

STATIC = Path(__file__).resolve().parent / "static"
STATUSES = ("running", "success", "failed")
_POLL_S = 0.25
_KEEPALIVE_S = 15.0


def _require_web_stack() -> None:
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as missing:
        raise ImportError(
            "The run viewer needs starlette and uvicorn, which are not installed: "
            'pip install "cayley[ui]"'
        ) from missing


def _check_host(host: str) -> None:
    if host == "localhost":
        return
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ValueError(
            f"The run viewer serves on the loopback interface only (127.0.0.1, ::1 or "
            f"localhost), got host={host!r}: run records include source code and "
            "tracebacks. To reach it from another machine, use an SSH tunnel."
        )


def create_app(path: str | os.PathLike[str], should_stop: Callable[[], bool] = bool) -> Any:
    """The Starlette application serving the store at ``path``.

    Args:
        path: the run store (it need not exist yet: the pages then show no runs).
        should_stop: returns True once the server is shutting down, so that event streams
            end promptly.
    """
    _require_web_stack()
    from anyio import to_thread
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
    from starlette.routing import Mount, Route
    from starlette.staticfiles import StaticFiles

    store = RunStore(path)

    def not_found(message: str) -> JSONResponse:
        return JSONResponse({"error": message}, status_code=404)

    def runs(request: Request) -> Response:
        status = request.query_params.get("status") or None
        if status is not None and status not in STATUSES:
            return JSONResponse(
                {"error": f"status must be one of {', '.join(STATUSES)}; got {status!r}"},
                status_code=400,
            )
        try:
            limit = int(request.query_params.get("limit", "500"))
        except ValueError:
            return JSONResponse({"error": "limit must be an integer"}, status_code=400)
        project = request.query_params.get("project") or None
        return JSONResponse(store.list_runs(project=project, status=status, limit=limit))

    def projects(request: Request) -> Response:
        return JSONResponse(store.projects())

    def run(request: Request) -> Response:
        run_id = request.path_params["run_id"]
        found = store.run(run_id)
        if found is None:
            return not_found(f"no run {run_id!r} in {store.path}")
        return JSONResponse(found)

    def items(request: Request) -> Response:
        run_id, node = request.path_params["run_id"], request.path_params["node"]
        try:
            limit = int(request.query_params.get("limit", "200"))
            offset = int(request.query_params.get("offset", "0"))
        except ValueError:
            return JSONResponse({"error": "limit and offset must be integers"}, status_code=400)
        return JSONResponse(store.items(run_id, node, limit=limit, offset=offset))

    def sse(event: str, data: Any) -> str:
        return f"event: {event}\ndata: {json.dumps(data)}\n\n"

    async def run_events(request: Request) -> Response:
        run_id = request.path_params["run_id"]

        async def stream() -> AsyncIterator[str]:
            last = None
            quiet = 0.0
            while not should_stop():
                version = await to_thread.run_sync(store.run_version, run_id)
                if version is None:
                    yield sse("missing", {"run_id": run_id})
                    return
                if version != last:
                    found = await to_thread.run_sync(store.run, run_id)
                    yield sse("run", found)
                    last, quiet = version, 0.0
                    if version[1] != "running":
                        return
                elif quiet >= _KEEPALIVE_S:
                    yield ": keep-alive\n\n"
                    quiet = 0.0
                await asyncio.sleep(_POLL_S)
                quiet += _POLL_S

        return StreamingResponse(stream(), media_type="text/event-stream", headers=_NO_CACHE)

    async def list_events(request: Request) -> Response:
        async def stream() -> AsyncIterator[str]:
            last = await to_thread.run_sync(store.changes_token)
            quiet = 0.0
            yield ": connected\n\n"
            while not should_stop():
                await asyncio.sleep(4 * _POLL_S)
                quiet += 4 * _POLL_S
                token = await to_thread.run_sync(store.changes_token)
                if token != last:
                    last, quiet = token, 0.0
                    yield sse("runs", {})
                elif quiet >= _KEEPALIVE_S:
                    yield ": keep-alive\n\n"
                    quiet = 0.0

        return StreamingResponse(stream(), media_type="text/event-stream", headers=_NO_CACHE)

    def page(name: str) -> Callable[[Request], Response]:
        def endpoint(request: Request) -> Response:
            return FileResponse(STATIC / name, headers=_NO_CACHE)

        return endpoint

    def no_icon(request: Request) -> Response:
        return Response(status_code=204)

    routes = [
        Route("/", page("index.html")),
        Route("/favicon.ico", no_icon),
        Route("/runs/{run_id}", page("run.html")),
        Route("/api/runs", runs),
        Route("/api/projects", projects),
        Route("/api/events", list_events),
        Route("/api/runs/{run_id}", run),
        Route("/api/runs/{run_id}/events", run_events),
        Route("/api/runs/{run_id}/nodes/{node}/items", items),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    return Starlette(routes=routes)


_NO_CACHE = {"Cache-Control": "no-cache"}


class ViewerServer:
    """The viewer running in a background thread, e.g. in a notebook or a test.

    .. code-block:: python

        with ViewerServer(".cayley/runs.db") as viewer:
            print(viewer.url)  # http://127.0.0.1:<free port>/

    Args:
        path: the run store.
        port: the port; 0 picks a free one.
        host: a loopback address.
    """

    def __init__(
        self, path: str | os.PathLike[str], port: int = 0, host: str = "127.0.0.1"
    ) -> None:
        _check_host(host)
        _require_web_stack()
        import uvicorn

        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._socket = socket.socket(family, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, port))
        self.host = host
        self.port: int = self._socket.getsockname()[1]
        config = uvicorn.Config(
            create_app(path, should_stop=lambda: self._server.should_exit),
            log_level="warning",
            timeout_graceful_shutdown=2,
        )
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The viewer's address, ending in ``/``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    def start(self, timeout: float = 10.0) -> ViewerServer:
        """Starts serving; returns once the server accepts connections."""
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._socket]},
            name="cayley-viewer",
            daemon=True,
        )
        self._thread.start()
        waited = 0.0
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError(f"The run viewer on {self.url} stopped while starting")
            if waited >= timeout:
                raise TimeoutError(f"The run viewer on {self.url} did not start in {timeout} s")
            threading.Event().wait(0.02)
            waited += 0.02
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stops serving and waits for the thread to end."""
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self._socket.close()

    def __enter__(self) -> ViewerServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def serve(path: str = ".cayley/runs.db", port: int = 8241, host: str = "127.0.0.1") -> None:
    """Serves the viewer for the store at ``path`` until interrupted (Ctrl-C).

    Args:
        path: the run store written by :class:`~cayley.tracking.RunTracker`.
        port: the port to listen on (0 picks a free one).
        host: a loopback address; the viewer refuses any other.
    """
    _check_host(host)
    _require_web_stack()
    import uvicorn

    server: Any = None
    app = create_app(path, should_stop=lambda: server is not None and server.should_exit)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise OSError(
            f"Cannot serve the run viewer on {host}:{port}: {exc.strerror}. "
            "Choose another port with --port."
        ) from exc
    shown = f"[{host}]" if ":" in host else host
    print(
        f"cayley run viewer on http://{shown}:{sock.getsockname()[1]}/ (store {path}); "
        "Ctrl-C stops it",
        flush=True,
    )
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=2))
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m cayley.tracking.viewer [--store PATH] [--port N]``."""
    parser = argparse.ArgumentParser(
        prog="python -m cayley.tracking.viewer",
        description="Serve the run viewer for a run store on 127.0.0.1.",
    )
    parser.add_argument("--store", default=".cayley/runs.db", help="the run store file")
    parser.add_argument("--port", type=int, default=8241, help="the port (default 8241)")
    args = parser.parse_args(argv)
    if not os.path.exists(args.store):
        print(
            f"note: {args.store} does not exist yet; runs appear once a RunTracker records into it",
            file=sys.stderr,
        )
    try:
        serve(args.store, port=args.port)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
