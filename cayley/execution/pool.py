"""A pool of worker processes fed through pipes, one task at a time per worker.

Unlike :class:`concurrent.futures.ProcessPoolExecutor`, the pool knows which task each
worker runs. When a worker dies (killed, out of memory, ``os._exit``), only the task it
was running fails, with an error saying how the process ended, and a new worker takes its
place when tasks are waiting; a broken pool never fails every task at once.

Each worker has a duplex pipe. A task is sent only to an idle worker, so a large payload
never waits behind a running task; when a result arrives, the pool's manager thread sends
that worker the next queued task at once. The static part of a template travels once per
worker. Workers start as tasks arrive, up to the pool's size. They ignore SIGINT (the
driver decides when they stop) and exit when their pipe closes, so they do not outlive the
driver.
"""

from __future__ import annotations

import atexit
import concurrent.futures
import functools
import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
import weakref
from collections import deque
from collections.abc import Callable
from typing import Any

from cayley.execution.codec import run_encoded

__all__ = ["WorkerPool", "describe_exit"]

#: Turns a worker's packed outcome into the task's rows (raising the task's error).
Decoder = Callable[[bytes], Any]
#: Builds the error of a task whose worker died, from the worker's pid and exit code.
Obituary = Callable[[int, "int | None"], BaseException]


def describe_exit(exitcode: int | None) -> str:
    """How a process ended, for error messages."""
    if exitcode is None:
        return "stopped responding"
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        if -exitcode == signal.SIGKILL:
            return (
                f"was killed by {name} (the kernel's out-of-memory killer sends it, as does "
                "kill -9)"
            )
        return f"was killed by {name}"
    return f"exited with code {exitcode} (os._exit or sys.exit in the task, or a crash)"


def _serve(conn: multiprocessing.connection.Connection, inherited: list[int]) -> None:
    """A worker's loop: receive (key, static part or None, task bytes), reply with the outcome.

    ``inherited`` lists file descriptors a forked worker got from the driver (the driver's
    ends of the pipes): closing them lets every worker see its pipe close when the driver
    goes away.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for fd in inherited:
        try:
            os.close(fd)
        except OSError:
            pass
    statics: dict[str, bytes] = {}
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        key, static, blob = message
        if static is not None:
            statics[key] = static
        packed, _ = run_encoded(key, functools.partial(statics.__getitem__, key), blob)
        try:
            conn.send_bytes(packed)
        except OSError:
            return


class _Job:
    """A submitted task: its bytes, how to decode its outcome, and its future."""

    __slots__ = ("key", "static", "blob", "decode", "obituary", "future")

    def __init__(
        self, key: str, static: bytes, blob: bytes, decode: Decoder, obituary: Obituary
    ) -> None:
        self.key = key
        self.static = static
        self.blob = blob
        self.decode = decode
        self.obituary = obituary
        self.future: concurrent.futures.Future = concurrent.futures.Future()


class _Worker:
    """One worker process, its end of the pipe, its task and the static parts it holds."""

    __slots__ = ("process", "conn", "job", "known")

    def __init__(self, process: Any, conn: multiprocessing.connection.Connection) -> None:
        self.process = process
        self.conn = conn
        self.job: _Job | None = None
        self.known: set[str] = set()


_LIVE_POOLS: weakref.WeakSet[WorkerPool] = weakref.WeakSet()


@atexit.register
def _stop_live_pools() -> None:
    for pool in list(_LIVE_POOLS):
        pool.shutdown(terminate=True)


class WorkerPool:
    """``size`` worker processes started with ``context`` (a multiprocessing context)."""

    def __init__(self, size: int, context: Any) -> None:
        self.size = size
        self.context = context
        self._lock = threading.Lock()
        self._workers: list[_Worker] = []
        self._idle: list[_Worker] = []
        self._queue: deque[_Job] = deque()
        self._closing = False
        self._wake_read, self._wake_write = multiprocessing.Pipe(duplex=False)
        self._manager: threading.Thread | None = None

    # ---- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        """Starts the thread that collects results; workers start with the first tasks."""
        self._manager = threading.Thread(target=self._manage, name="cayley-pool", daemon=True)
        self._manager.start()
        _LIVE_POOLS.add(self)

    def _start_worker(self) -> None:
        """Starts one more worker (the lock is held); the manager thread learns of it."""
        parent, child = multiprocessing.Pipe(duplex=True)
        inherited: list[int] = []
        if self.context.get_start_method() == "fork":
            inherited = [parent.fileno(), *self._driver_fds()]
            for pool in list(_LIVE_POOLS):
                if pool is not self:
                    inherited.extend(pool._driver_fds())
        process = self.context.Process(target=_serve, args=(child, inherited), name="cayley-worker")
        process.start()
        child.close()
        worker = _Worker(process, parent)
        self._workers.append(worker)
        self._idle.append(worker)
        if self._manager is not None and self._manager is not threading.current_thread():
            self._wake()

    def _driver_fds(self) -> list[int]:
        """The file descriptors of this pool's driver side (its pipe ends)."""
        ends = [w.conn for w in self._workers] + [self._wake_read, self._wake_write]
        fds = []
        for end in ends:
            try:
                fds.append(end.fileno())
            except OSError:
                pass  # already closed
        return fds

    def shutdown(self, terminate: bool = False) -> None:
        """Stops the workers: after their current task, or at once with ``terminate``.

        Tasks not finished fail with :class:`concurrent.futures.CancelledError`.
        """
        with self._lock:
            if self._closing:
                return
            self._closing = True
        _LIVE_POOLS.discard(self)
        self._wake()
        if self._manager is not None and self._manager is not threading.current_thread():
            self._manager.join(timeout=5)
        with self._lock:
            workers = list(self._workers)
            jobs = [w.job for w in workers if w.job is not None] + list(self._queue)
            self._queue.clear()
        for worker in workers:
            if terminate:
                worker.process.terminate()
            else:
                try:
                    worker.conn.send(None)
                except OSError:
                    pass
        for worker in workers:
            worker.process.join(timeout=5)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join(timeout=5)
            worker.conn.close()
        for job in jobs:
            if not job.future.done():
                job.future.cancel()
        self._wake_read.close()
        self._wake_write.close()

    def _wake(self) -> None:
        try:
            self._wake_write.send_bytes(b"")
        except OSError:
            pass

    # ---- submission -----------------------------------------------------------------------
    def submit(
        self, key: str, static: bytes, blob: bytes, decode: Decoder, obituary: Obituary
    ) -> concurrent.futures.Future:
        """Queues a task; the future gets ``decode(outcome)``, or ``obituary(pid, exitcode)``
        when the worker running it dies."""
        job = _Job(key, static, blob, decode, obituary)
        with self._lock:
            if self._closing:
                raise RuntimeError("the worker pool was shut down")
            if not self._idle and len(self._workers) < self.size:
                self._start_worker()
            if self._idle:
                self._send(self._idle.pop(), job)
            else:
                self._queue.append(job)
        return job.future

    def _send(self, worker: _Worker, job: _Job) -> None:
        """Hands ``job`` to an idle ``worker`` (the lock is held)."""
        static = None if job.key in worker.known else job.static
        worker.job = job
        try:
            worker.conn.send((job.key, static, job.blob))
        except OSError:
            return  # the worker died; the manager thread sees it and fails the job
        worker.known.add(job.key)

    # ---- the manager thread ---------------------------------------------------------------
    def _manage(self) -> None:
        while True:
            with self._lock:
                if self._closing:
                    return
                by_conn = {w.conn: w for w in self._workers}
                by_sentinel = {w.process.sentinel: w for w in self._workers}
            ready = multiprocessing.connection.wait([self._wake_read, *by_conn, *by_sentinel])
            finished: list[tuple[_Job, bytes]] = []
            dead: list[_Worker] = []
            for handle in ready:
                if handle is self._wake_read:
                    try:
                        while self._wake_read.poll():
                            self._wake_read.recv_bytes()
                    except (EOFError, OSError):
                        return
                    continue  # closing, or a new worker to watch
                worker = by_conn.get(handle) or by_sentinel[handle]
                gone = handle in by_sentinel
                try:
                    while worker.conn.poll():
                        data = worker.conn.recv_bytes()
                        with self._lock:
                            job, worker.job = worker.job, None
                            if job is not None:
                                finished.append((job, data))
                            if self._queue and not self._closing:
                                self._send(worker, self._queue.popleft())
                            elif worker not in self._idle:
                                self._idle.append(worker)
                except (EOFError, OSError):
                    gone = True
                if gone and worker not in dead:
                    dead.append(worker)
            for job, data in finished:
                self._settle(job, data)
            for worker in dead:
                self._bury(worker)

    def _settle(self, job: _Job, data: bytes) -> None:
        try:
            rows = job.decode(data)
        except BaseException as exc:
            job.future.set_exception(exc)
        else:
            job.future.set_result(rows)

    def _bury(self, worker: _Worker) -> None:
        """A worker died: fail its task; start another worker if tasks are waiting."""
        worker.process.join(timeout=1)
        with self._lock:
            if worker in self._workers:
                self._workers.remove(worker)
            if worker in self._idle:
                self._idle.remove(worker)
            job, worker.job = worker.job, None
        worker.conn.close()
        if job is not None and not job.future.done():
            job.future.set_exception(job.obituary(worker.process.pid, worker.process.exitcode))
        with self._lock:
            if self._queue and not self._closing and len(self._workers) < self.size:
                self._start_worker()
                self._send(self._idle.pop(), self._queue.popleft())
