"""Timing primitives: interleaved repetitions, medians, subprocess wall times, deep stacks."""

from __future__ import annotations

import gc
import math
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import TypeVar

__all__ = [
    "ForeignLoad",
    "batch_size",
    "interleave",
    "median",
    "run_with_deep_stack",
    "subprocess_wall_time",
    "time_batch",
]

T = TypeVar("T")


def median(values: list[float]) -> float:
    """The median of ``values`` (``nan`` when there are none)."""
    return statistics.median(values) if values else math.nan


def time_batch(fn: Callable[[], object], repeat: int = 1) -> float:
    """Seconds per call of ``fn``, averaged over ``repeat`` back-to-back calls."""
    gc.collect()
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - start) / repeat


def batch_size(fn: Callable[[], object], min_sample_seconds: float) -> int:
    """Calls ``fn`` once and returns how many calls make a sample of ``min_sample_seconds``."""
    elapsed = time_batch(fn)
    if elapsed <= 0:
        return 1000
    return max(1, math.ceil(min_sample_seconds / elapsed))


def interleave(
    cases: Mapping[str, Callable[[], float]],
    rounds: int | Mapping[str, int],
) -> dict[str, list[float]]:
    """Samples every case once per round, alternating the order each round.

    Each case is a callable returning one sample (usually seconds). Interleaving spreads
    slow drifts of the machine (frequency scaling, other load) evenly over the cases;
    reversing the order on odd rounds cancels any first-or-second position bias.

    Args:
        cases: name to sampler.
        rounds: how many samples to take, for all cases or per case name.
    """
    names = list(cases)
    wanted = {name: rounds if isinstance(rounds, int) else rounds[name] for name in names}
    samples: dict[str, list[float]] = {name: [] for name in names}
    for index in range(max(wanted.values(), default=0)):
        order = names if index % 2 == 0 else list(reversed(names))
        for name in order:
            if len(samples[name]) < wanted[name]:
                samples[name].append(cases[name]())
    return samples


def subprocess_wall_time(args: list[str], env: Mapping[str, str] | None = None) -> float:
    """Wall-clock seconds for a fresh subprocess to run ``args`` to completion.

    Args:
        args: the command line.
        env: the child's whole environment (this process's environment when ``None``).
    """
    start = time.perf_counter()
    completed = subprocess.run(
        args,
        env=dict(env) if env is not None else None,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        check=False,
    )
    elapsed = time.perf_counter() - start
    if completed.returncode != 0:
        raise RuntimeError(
            f"{' '.join(args)} failed ({completed.returncode}): {completed.stderr.decode()[-500:]}"
        )
    return elapsed


def run_with_deep_stack(
    fn: Callable[[], T], recursion_limit: int = 200_000, stack_bytes: int = 512 * 2**20
) -> T:
    """Runs ``fn`` in a thread with a large C stack and a raised recursion limit.

    Recursive executors need one Python frame (or more) per node of a chain; the main
    thread's default stack is too small for very deep recursion.
    """
    result: list[T] = []
    error: list[BaseException] = []

    def target() -> None:
        try:
            result.append(fn())
        except BaseException as exc:
            error.append(exc)

    previous_limit = sys.getrecursionlimit()
    previous_stack = threading.stack_size()
    sys.setrecursionlimit(max(previous_limit, recursion_limit))
    threading.stack_size(stack_bytes)
    try:
        thread = threading.Thread(target=target, name="deep-stack")
        thread.start()
    finally:
        threading.stack_size(previous_stack)
    thread.join()
    sys.setrecursionlimit(previous_limit)
    if error:
        raise error[0]
    return result[0]


def _machine_ticks() -> tuple[int, int] | None:
    """Busy and total CPU ticks of the whole machine since boot, from ``/proc/stat``."""
    stat = Path("/proc/stat")
    if not stat.exists():
        return None
    fields = [int(x) for x in stat.read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    total = sum(fields[:8])
    return total - idle, total


def _own_cpu_seconds() -> float:
    """CPU seconds used by this process and its reaped children."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def _descendant_cpu_seconds() -> dict[int, float]:
    """CPU seconds of every live descendant (pool workers, a local Ray or Dask cluster).

    Empty without ``psutil``: the descendants then count as other processes.
    """
    try:
        import psutil
    except ImportError:
        return {}
    seconds = {}
    for child in psutil.Process().children(recursive=True):
        try:
            times = child.cpu_times()
        except psutil.Error:
            continue  # gone meanwhile
        seconds[child.pid] = times.user + times.system
    return seconds


class ForeignLoad:
    """Measures the share of the machine's CPU that other processes used during a block.

    This process and its descendants (worker pools, a cluster it started) are not "other".
    A benchmark of parallel speedup needs idle cores; this tells whether it had them.
    ``share`` stays ``None`` where ``/proc/stat`` is unavailable.
    """

    def __init__(self) -> None:
        self.share: float | None = None
        self._start: tuple[int, int] | None = None
        self._own = 0.0
        self._descendants: dict[int, float] = {}

    def __enter__(self) -> ForeignLoad:
        self._start = _machine_ticks()
        self._own = _own_cpu_seconds()
        self._descendants = _descendant_cpu_seconds()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        end = _machine_ticks()
        if self._start is None or end is None or end[1] <= self._start[1]:
            return
        hz = os.sysconf("SC_CLK_TCK")
        busy = (end[0] - self._start[0]) / hz
        capacity = (end[1] - self._start[1]) / hz
        own = _own_cpu_seconds() - self._own
        for pid, seconds in _descendant_cpu_seconds().items():
            own += seconds - self._descendants.get(pid, 0.0)
        self.share = min(1.0, max(0.0, (busy - own) / capacity))
