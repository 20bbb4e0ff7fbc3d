"""FutureAdapter: nodes of a plain dataflow on a thread pool, futures passed downstream."""

from __future__ import annotations

import pickle
import threading
import time
from typing import Any

import pytest

from cayley import ad_hoc_utils, base, driver
from cayley.execution import executors
from cayley.lifecycle.api import ResultBuilder
from cayley.plugins import h_threadpool

DATAFLOW = """
import threading
from cayley.function_modifiers import config, extract_fields, parameterize, value

THREADS = set()

def _seen() -> None:
    THREADS.add(threading.current_thread().name)

def base(n: int) -> int:
    _seen()
    return n * 3

def left(base: int) -> int:
    _seen()
    return base + 1

def right(base: int, offset: int = 10) -> int:
    _seen()
    return base + offset

def joined(left: int, right: int) -> list:
    _seen()
    return [left, right]

@extract_fields({"low": int, "high": int})
def bounds(joined: list) -> dict:
    return {"low": min(joined), "high": max(joined)}

@parameterize(plus_one={"step": value(1)}, plus_two={"step": value(2)})
def stepped(high: int, step: int) -> int:
    return high + step

@config.when(mode="square")
def shaped__square(low: int) -> int:
    return low * low

@config.when(mode="negate")
def shaped__negate(low: int) -> int:
    return -low
"""

SLEEPS = """
import time

def slow_a(delay: float) -> str:
    time.sleep(delay)
    return "a"

def slow_b(delay: float) -> str:
    time.sleep(delay)
    return "b"

def slow_c(delay: float) -> str:
    time.sleep(delay)
    return "c"

def letters(slow_a: str, slow_b: str, slow_c: str) -> str:
    return slow_a + slow_b + slow_c
"""

FAILING = """
import time

class Boom(ValueError):
    pass

def source(n: int) -> int:
    return n

def broken(source: int) -> int:
    raise Boom(f"cannot handle {source}")

def after(broken: int) -> int:
    return broken + 1

def slow(source: int) -> int:
    time.sleep(0.2)
    return source
"""

FAN_OUT = """
from cayley.htypes import Collect, Parallelizable

def base(n: int) -> int:
    return n

def items(base: int) -> Parallelizable[int]:
    yield from range(base)

def squared(items: int) -> int:
    return items * items

def total(squared: Collect[int]) -> int:
    return sum(squared)

def doubled(total: int) -> int:
    return 2 * total
"""

OUTPUTS = ["base", "left", "right", "joined", "low", "high", "plus_one", "plus_two", "shaped"]


def _module(source: str) -> Any:
    return ad_hoc_utils.module_from_source(source)


def _driver(flow: Any, *adapters: Any, config: dict[str, Any] | None = None) -> driver.Driver:
    builder = driver.Builder().with_modules(flow).with_config(config or {})
    return builder.with_adapters(*adapters).build()


def _pool_threads(prefix: str) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith(prefix)]


@pytest.mark.parametrize("mode", ["square", "negate"])
@pytest.mark.parametrize("max_workers", [None, 1, 2])
def test_values_match_a_plain_run(mode: str, max_workers: int | None) -> None:
    flow = _module(DATAFLOW)
    config = {"mode": mode}
    expected = _driver(flow, config=config).execute(OUTPUTS, inputs={"n": 2})
    flow.THREADS.clear()
    adapter = h_threadpool.FutureAdapter(max_workers=max_workers, thread_name_prefix="tp-values")
    result = _driver(flow, adapter, config=config).execute(OUTPUTS, inputs={"n": 2})
    assert result == expected
    assert result["shaped"] == (49 if mode == "square" else -7)
    assert flow.THREADS and all(name.startswith("tp-values") for name in flow.THREADS)


def test_inputs_overrides_and_requested_inputs() -> None:
    flow = _module(DATAFLOW)
    adapter = h_threadpool.FutureAdapter()
    dr = _driver(flow, adapter, config={"mode": "square"})
    result = dr.execute(
        ["n", "joined", "high"], inputs={"n": 1, "offset": 0}, overrides={"left": 100}
    )
    assert result == {"n": 1, "joined": [100, 3], "high": 100}


def test_independent_nodes_run_in_parallel() -> None:
    dr = _driver(_module(SLEEPS), h_threadpool.FutureAdapter())
    started = time.perf_counter()
    result = dr.execute(["letters"], inputs={"delay": 0.3})
    elapsed = time.perf_counter() - started
    assert result == {"letters": "abc"}
    assert elapsed <= 0.6, f"three 0.3 s sleeps took {elapsed:.2f} s"


def test_one_worker_runs_them_one_at_a_time() -> None:
    dr = _driver(_module(SLEEPS), h_threadpool.FutureAdapter(max_workers=1))
    started = time.perf_counter()
    assert dr.execute(["letters"], inputs={"delay": 0.1}) == {"letters": "abc"}
    assert time.perf_counter() - started >= 0.3


def test_result_builder_gets_resolved_values() -> None:
    class Pairs(ResultBuilder):
        def build_result(self, **outputs: Any) -> Any:
            return sorted(outputs.items())

        def output_type(self) -> type:
            return list

    adapter = h_threadpool.FutureAdapter(result_builder=Pairs())
    dr = _driver(_module(SLEEPS), adapter)
    assert dr.execute(["slow_b", "slow_a"], inputs={"delay": 0.0}) == [
        ("slow_a", "a"),
        ("slow_b", "b"),
    ]
    assert adapter.output_type() is list
    assert h_threadpool.FutureAdapter().output_type() is Any
    assert h_threadpool.FutureAdapter().input_types() == [Any]


def test_legacy_result_builder() -> None:
    adapter = h_threadpool.FutureAdapter(result_builder=base.DictResult())
    dr = _driver(_module(SLEEPS), adapter)
    assert dr.execute(["letters"], inputs={"delay": 0.0}) == {"letters": "abc"}


def test_node_exception_keeps_its_type() -> None:
    flow = _module(FAILING)
    dr = _driver(flow, h_threadpool.FutureAdapter())
    with pytest.raises(flow.Boom) as info:
        dr.execute(["after", "slow"], inputs={"n": 4})
    assert type(info.value) is flow.Boom
    assert str(info.value) == "cannot handle 4"
    notes = "\n".join(getattr(info.value, "__notes__", []))
    assert "while computing node 'broken'" in notes


def test_failure_of_a_requested_node_itself() -> None:
    flow = _module(FAILING)
    dr = _driver(flow, h_threadpool.FutureAdapter())
    with pytest.raises(flow.Boom, match="cannot handle 1"):
        dr.execute(["broken"], inputs={"n": 1})


def test_pool_is_shut_down_after_each_run() -> None:
    prefix = "tp-shutdown"
    flow = _module(DATAFLOW)
    adapter = h_threadpool.FutureAdapter(max_workers=3, thread_name_prefix=prefix)
    dr = _driver(flow, adapter, config={"mode": "square"})
    for _ in range(3):
        assert dr.execute(["plus_two"], inputs={"n": 1})["plus_two"] == 15
        assert adapter.executor is None
        assert not _pool_threads(prefix)
    assert flow.THREADS and all(name.startswith(prefix) for name in flow.THREADS)


def test_pool_exists_during_the_run_and_is_shut_down_after() -> None:
    prefix = "tp-during"
    adapter = h_threadpool.FutureAdapter(thread_name_prefix=prefix)
    pools: list[Any] = []
    flow = ad_hoc_utils.create_temporary_module(_make_spy(adapter, pools))
    assert _driver(flow, adapter).execute(["spy"]) == {"spy": 1}
    (pool,) = pools
    assert pool is not None
    assert adapter.executor is None
    assert pool._shutdown
    assert not _pool_threads(prefix)


def _make_spy(adapter: h_threadpool.FutureAdapter, pools: list[Any]) -> Any:
    def spy() -> int:
        pools.append(adapter.executor)
        return 1

    return spy


def test_pool_is_shut_down_after_a_failure() -> None:
    prefix = "tp-failure"
    flow = _module(FAILING)
    adapter = h_threadpool.FutureAdapter(thread_name_prefix=prefix)
    dr = _driver(flow, adapter)
    with pytest.raises(flow.Boom):
        dr.execute(["after", "slow"], inputs={"n": 1})
    assert adapter.executor is None
    assert not _pool_threads(prefix)
    assert dr.execute(["slow"], inputs={"n": 5}) == {"slow": 5}


def test_pool_is_shut_down_when_inputs_are_rejected() -> None:
    adapter = h_threadpool.FutureAdapter(thread_name_prefix="tp-rejected")
    dr = _driver(_module(FAILING), adapter)
    with pytest.raises(ValueError, match="Type requirement mismatch"):
        dr.execute(["slow"], inputs={"n": "x"})
    assert adapter.executor is None


def test_concurrent_runs_share_the_adapter() -> None:
    prefix = "tp-concurrent"
    adapter = h_threadpool.FutureAdapter(thread_name_prefix=prefix)
    dr = _driver(_module(SLEEPS), adapter)
    results: list[Any] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(dr.execute(["letters"], inputs={"delay": 0.05}))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert results == [{"letters": "abc"}] * 6
    assert adapter.executor is None
    assert not _pool_threads(prefix)


@pytest.mark.parametrize(
    "executor",
    [executors.SynchronousLocalTaskExecutor, lambda: executors.MultiThreadingExecutor(3)],
    ids=["synchronous", "threads"],
)
def test_dynamic_execution_runs_nodes_in_their_tasks(executor: Any) -> None:
    flow = _module(FAN_OUT)
    adapter = h_threadpool.FutureAdapter(thread_name_prefix="tp-dynamic")
    dr = (
        driver.Builder()
        .with_modules(flow)
        .enable_dynamic_execution(allow_experimental_mode=True)
        .with_remote_executor(executor())
        .with_adapters(adapter)
        .build()
    )
    assert dr.execute(["doubled", "total"], inputs={"n": 5}) == {"doubled": 60, "total": 30}
    assert adapter.executor is None


def test_pickled_copy_has_settings_but_no_pool() -> None:
    adapter = h_threadpool.FutureAdapter(max_workers=2, thread_name_prefix="tp-pickle")
    copy = pickle.loads(pickle.dumps(adapter))
    assert copy.max_workers == 2 and copy.thread_name_prefix == "tp-pickle"
    assert copy.executor is None
    dr = _driver(_module(SLEEPS), copy)
    assert dr.execute(["letters"], inputs={"delay": 0.0}) == {"letters": "abc"}


def test_fan_out_without_dynamic_execution() -> None:
    adapter = h_threadpool.FutureAdapter(thread_name_prefix="tp-fan-out")
    dr = _driver(_module(FAN_OUT), adapter)
    assert dr.execute(["doubled", "total"], inputs={"n": 5}) == {"doubled": 60, "total": 30}
    assert adapter.executor is None
