"""A slow generator's first item starts while the generator is still producing.

Before, the scheduler pulled up to its high-water mark before dispatching anything, so on
threads and processes the first item waited for the whole generator.
"""

from __future__ import annotations

import pytest

from cayley import ad_hoc_utils
from tests.engine.conftest import dynamic, make_executor

SLOW = """
import time
from cayley.htypes import Collect, Parallelizable

def items(n: int, gap: float, log: str) -> Parallelizable[int]:
    for i in range(n):
        time.sleep(gap)
        with open(log, "a") as handle:
            handle.write(f"yield {i} {time.time()}\\n")
        yield i

def started(items: int, log: str) -> int:
    with open(log, "a") as handle:
        handle.write(f"start {items} {time.time()}\\n")
    return items

def total(started: Collect[int]) -> int:
    return sum(started)
"""


def _first_item_latency(kind: str, n: int, tmp_path) -> tuple[float, float]:
    """(first item's start - first yield, last yield - first item's start), in seconds."""
    log = tmp_path / f"{kind}-{n}.log"
    dr = dynamic(ad_hoc_utils.module_from_source(SLOW), make_executor(kind))
    result = dr.execute(["total"], inputs={"n": n, "gap": 0.05, "log": str(log)})
    assert result == {"total": n * (n - 1) // 2}
    events = [line.split() for line in log.read_text().splitlines()]
    yields = [float(t) for kind_, _, t in events if kind_ == "yield"]
    starts = [float(t) for kind_, _, t in events if kind_ == "start"]
    return min(starts) - yields[0], yields[-1] - min(starts)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", ["threads", "fork"])
def test_the_first_item_starts_before_the_generator_ends(kind, tmp_path):
    latency, ahead = _first_item_latency(kind, 20, tmp_path)
    # 20 items 50 ms apart: the generator runs for about a second
    assert latency < 0.4, latency
    assert ahead > 0.5, "the first item only started once the generator was nearly done"


@pytest.mark.timeout(60)
def test_time_to_first_item_does_not_grow_with_the_item_count(tmp_path):
    short, _ = _first_item_latency("threads", 4, tmp_path)
    long, _ = _first_item_latency("threads", 20, tmp_path)
    assert long < short + 0.25, (short, long)
