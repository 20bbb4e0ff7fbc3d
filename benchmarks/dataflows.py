"""Source text of the generated dataflow modules, parameterised by the engine's package."""

from __future__ import annotations

import time

__all__ = [
    "burn",
    "burn_items",
    "calibrate_burn",
    "chain_source",
    "decorated_source",
    "fanout_source",
    "parallel_work_source",
    "wide_source",
]


def chain_source(length: int) -> str:
    """``n_0(x)`` then ``n_i(n_{i-1}) = n_{i-1} + 1``: a chain of ``length`` trivial nodes."""
    lines = ["def n_0(x: int) -> int:", "    return x + 1", ""]
    for i in range(1, length):
        lines += [f"def n_{i}(n_{i - 1}: int) -> int:", f"    return n_{i - 1} + 1", ""]
    return "\n".join(lines)


def wide_source(width: int) -> str:
    """``width`` independent trivial nodes ``w_i(x) = x + i``: the same node count, depth 1."""
    lines = []
    for i in range(width):
        lines += [f"def w_{i}(x: int) -> int:", f"    return x + {i}", ""]
    return "\n".join(lines)


def fanout_source(package: str) -> str:
    """A fan-out over ``n_items`` integers, a two-node block per item and a summing collect."""
    return f'''
from {package}.htypes import Collect, Parallelizable


def items(n_items: int) -> Parallelizable[int]:
    """Yields 0 .. n_items - 1."""
    for i in range(n_items):
        yield i


def plus_one(items: int) -> int:
    """First node of the block."""
    return items + 1


def doubled(plus_one: int) -> int:
    """Second node of the block."""
    return plus_one * 2


def total(doubled: Collect[int]) -> int:
    """Sums the block's results."""
    return sum(doubled)
'''


def burn(iterations: int) -> int:
    """Pure-Python CPU work: ``iterations`` steps of integer arithmetic (holds the GIL)."""
    acc = 0
    for i in range(iterations):
        acc = (acc + i * i) % 1_000_003
    return acc


def burn_items(count: int, iterations: int) -> int:
    """``count`` items of :func:`burn` work, for the plain-``multiprocessing`` reference."""
    for _ in range(count):
        burn(iterations)
    return count


def calibrate_burn(seconds: float) -> int:
    """How many :func:`burn` iterations take about ``seconds`` on this machine."""
    iterations = 10_000
    while True:
        start = time.perf_counter()
        burn(iterations)
        elapsed = time.perf_counter() - start
        if elapsed >= 0.05:
            break
        iterations *= 2
    best = elapsed
    for _ in range(4):
        start = time.perf_counter()
        burn(iterations)
        best = min(best, time.perf_counter() - start)
    return max(1, round(iterations * seconds / best))


def parallel_work_source(package: str) -> str:
    """Fan-outs whose items do CPU work (``burn_iterations``) or sleep (``sleep_s``)."""
    return f'''
import time

from {package}.htypes import Collect, Parallelizable


def items(n_items: int) -> Parallelizable[int]:
    """Yields 0 .. n_items - 1."""
    for i in range(n_items):
        yield i


def cpu_work(items: int, burn_iterations: int) -> int:
    """Pure-Python arithmetic that holds the GIL."""
    acc = 0
    for i in range(burn_iterations):
        acc = (acc + i * i) % 1_000_003
    return items


def slept(items: int, sleep_s: float) -> int:
    """Sleeps, releasing the GIL."""
    time.sleep(sleep_s)
    return items


def cpu_total(cpu_work: Collect[int]) -> int:
    """Collects the CPU-bound items."""
    return sum(cpu_work)


def sleep_total(slept: Collect[int]) -> int:
    """Collects the sleeping items."""
    return sum(slept)
'''


def decorated_source(package: str, groups: int) -> str:
    """``5 * groups`` decorated functions: ``@parameterize``, ``@extract_columns``,
    ``@check_output(range=...)`` and two ``@config.when`` variants per group.

    With ``config={"mode": "a"}`` each group yields 2 parameterized nodes, a DataFrame node
    with 2 extracted columns, a validated node (plus its validator nodes) and one variant.
    """
    parts = [
        f"""
import pandas as pd

from {package}.function_modifiers import check_output, config, extract_columns, parameterize, value
"""
    ]
    for i in range(groups):
        parts.append(
            f'''
@parameterize(p_{i}_a={{"k": value(1)}}, p_{i}_b={{"k": value(2)}})
def p_{i}(base: int, k: int) -> int:
    """Parameterized twice."""
    return base + k


@extract_columns("c_{i}_a", "c_{i}_b")
def frame_{i}(base: int) -> pd.DataFrame:
    """A frame whose two columns become nodes."""
    return pd.DataFrame({{"c_{i}_a": [base], "c_{i}_b": [base + 1]}})


@check_output(range=(0, 1000))
def checked_{i}(p_{i}_a: int, p_{i}_b: int) -> int:
    """Validated against a range."""
    return p_{i}_a + p_{i}_b


@config.when(mode="a")
def variant_{i}__a(checked_{i}: int) -> int:
    """Chosen when mode == "a"."""
    return checked_{i} + 1


@config.when(mode="b")
def variant_{i}__b(checked_{i}: int) -> int:
    """Chosen when mode == "b"."""
    return checked_{i} - 1
'''
        )
    return "\n".join(parts)
