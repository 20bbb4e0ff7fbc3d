"""``@retry``: nodes run again on chosen errors, per item, on every executor, seen by hooks."""

from __future__ import annotations

import asyncio
import math
import os
import time

import pytest

from cayley import ad_hoc_utils, driver
from cayley.function_modifiers import InvalidDecoratorException, retry
from cayley.function_modifiers.retry import RetryingCall
from cayley.lifecycle import base as lifecycle_base
from tests.engine.conftest import dynamic, make_executor
from tests.resources.dyn_hooks import FileRecorder

COMMON = """
import os
from cayley.function_modifiers import retry

class Flaky(ConnectionError):
    pass

def _attempt(log_dir, key, failures, kind=None):
    path = os.path.join(log_dir, str(key))
    with open(path, "a") as handle:
        handle.write("x")
    tries = os.path.getsize(path)
    if tries <= failures:
        if kind == "value" and tries == failures:
            raise ValueError(f"{key}: attempt {tries} is wrong")
        raise Flaky(f"{key}: attempt {tries}")
    return tries
"""

FAN_OUT = (
    COMMON
    + """
from cayley.htypes import Collect, Parallelizable

def items(n: int) -> Parallelizable[int]:
    yield from range(n)

@retry(attempts=3, on=ConnectionError)
def fetched(items: int, log_dir: str, failures: int) -> int:
    _attempt(log_dir, items, failures)
    return items * 10

def total(fetched: Collect[int]) -> int:
    return sum(fetched)
"""
)

PLAIN = (
    COMMON
    + """
@retry(attempts=__ATTEMPTS__, on=__ON__, backoff_seconds=__BACKOFF__)
def page(log_dir: str, failures: int, kind: str) -> int:
    return _attempt(log_dir, "page", failures, kind)

def size(page: int) -> int:
    return page + 100
"""
)


def _source(attempts=3, on="ConnectionError", backoff=0.0):
    return (
        PLAIN.replace("__ATTEMPTS__", str(attempts))
        .replace("__ON__", on)
        .replace("__BACKOFF__", str(backoff))
    )


def _plain(attempts=3, on="ConnectionError", backoff=0.0):
    source = _source(attempts, on, backoff)
    return driver.Builder().with_modules(ad_hoc_utils.module_from_source(source)).build()


def _tries(log_dir, key) -> int:
    return os.path.getsize(os.path.join(log_dir, str(key)))


def _notes(exc: BaseException) -> str:
    return "\n".join(getattr(exc, "__notes__", []))


# ---- the plain driver --------------------------------------------------------------------------
def test_a_flaky_node_succeeds_on_a_later_attempt(tmp_path):
    result = _plain().execute(
        ["size"], inputs={"log_dir": str(tmp_path), "failures": 2, "kind": ""}
    )
    assert result == {"size": 103}
    assert _tries(tmp_path, "page") == 3


def test_the_last_error_propagates_with_every_attempt_listed(tmp_path):
    dr = _plain()
    with pytest.raises(ConnectionError, match="page: attempt 3") as info:
        dr.execute(["size"], inputs={"log_dir": str(tmp_path), "failures": 9, "kind": ""})
    assert _tries(tmp_path, "page") == 3
    notes = _notes(info.value)
    assert "while computing node 'page'" in notes
    assert (
        "all 3 attempts failed (retry(attempts=3, on=ConnectionError, backoff_seconds=0.0)): "
        "attempt 1: Flaky: page: attempt 1; attempt 2: Flaky: page: attempt 2; "
        "attempt 3: Flaky: page: attempt 3"
    ) in notes


def test_other_errors_are_not_retried(tmp_path):
    dr = _plain()
    with pytest.raises(ValueError) as info:
        dr.execute(["size"], inputs={"log_dir": str(tmp_path), "failures": 1, "kind": "value"})
    assert _tries(tmp_path, "page") == 1
    assert "attempt" not in _notes(info.value).replace("attempt 1 is wrong", "")


def test_an_error_outside_on_stops_the_attempts_and_says_why(tmp_path):
    dr = _plain()
    with pytest.raises(ValueError, match="attempt 2 is wrong") as info:
        dr.execute(["size"], inputs={"log_dir": str(tmp_path), "failures": 2, "kind": "value"})
    assert _tries(tmp_path, "page") == 2
    assert "attempt 2 raised ValueError, which retry(attempts=3" in _notes(info.value)


def test_on_takes_a_tuple(tmp_path):
    dr = _plain(on="(KeyError, Flaky)")
    assert dr.execute(["size"], inputs={"log_dir": str(tmp_path), "failures": 2, "kind": ""}) == {
        "size": 103
    }


def test_backoff_doubles_between_attempts(tmp_path):
    dr = _plain(backoff=0.05)
    started = time.perf_counter()
    with pytest.raises(ConnectionError):
        dr.execute(["size"], inputs={"log_dir": str(tmp_path), "failures": 9, "kind": ""})
    assert time.perf_counter() - started >= 0.05 + 0.1


def test_nodes_without_retry_compile_to_their_own_function(tmp_path):
    dr = _plain()
    plan = dr._plan_for(["size"], ["log_dir", "failures", "kind"], [])
    steps = {s.name: s for g in plan.groups for s in g.template.steps}
    assert steps["size"].retry is None and steps["size"].fn is dr.graph.nodes["size"].callable
    assert isinstance(steps["page"].retry, RetryingCall)
    assert steps["page"].retry.policy.attempts == 3


# ---- every executor, per item --------------------------------------------------------------
@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", ["sync", "threads", "fork"])
def test_each_item_retries_on_its_own(kind, tmp_path):
    flow = ad_hoc_utils.module_from_source(FAN_OUT)
    dr = dynamic(flow, make_executor(kind))
    result = dr.execute(["total"], inputs={"n": 4, "log_dir": str(tmp_path), "failures": 2})
    assert result == {"total": 60}
    assert [_tries(tmp_path, i) for i in range(4)] == [3, 3, 3, 3]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", ["sync", "fork"])
def test_an_item_that_keeps_failing_names_itself_and_its_attempts(kind, tmp_path):
    flow = ad_hoc_utils.module_from_source(FAN_OUT)
    dr = dynamic(flow, make_executor(kind))
    with pytest.raises(flow.Flaky) as info:
        dr.execute(["total"], inputs={"n": 2, "log_dir": str(tmp_path), "failures": 5})
    notes = _notes(info.value)
    assert "all 3 attempts failed" in notes
    assert "item 0 of 'items'" in notes or "item 1 of 'items'" in notes


class NodeCalls(lifecycle_base.BasePreNodeExecute, lifecycle_base.BasePostNodeExecute):
    """The generic node hooks (not the public NodeExecutionHook bridge)."""

    def __init__(self, path):
        self.path = path

    def _write(self, text):
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(text + "\n")

    def pre_node_execute(self, *, run_id, node_, kwargs, task_id=None):
        self._write(f"pre {node_.name}")

    def post_node_execute(self, *, run_id, node_, kwargs, success, error, result, task_id=None):
        self._write(f"post {node_.name} {success}")


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", ["sync", "fork"])
def test_hooks_see_every_attempt(kind, tmp_path):
    flow = ad_hoc_utils.module_from_source(FAN_OUT)
    recorder = FileRecorder(str(tmp_path / "events.jsonl"))
    logs = tmp_path / "logs"
    logs.mkdir()
    dr = dynamic(flow, make_executor(kind), recorder)
    assert dr.execute(["total"], inputs={"n": 2, "log_dir": str(logs), "failures": 2}) == {
        "total": 10
    }
    after = [e for e in recorder.events() if e["hook"] == "node_after" and e["node"] == "fetched"]
    by_task: dict[str, list[bool]] = {}
    for event in after:
        by_task.setdefault(event["task_id"], []).append(event["success"])
    assert by_task == {f"expand-items.{i}.block-items": [False, False, True] for i in range(2)}, (
        by_task
    )


def test_generic_node_hooks_see_every_attempt(tmp_path):
    flow = ad_hoc_utils.module_from_source(_source())
    calls = NodeCalls(str(tmp_path / "calls.txt"))
    dr = driver.Builder().with_modules(flow).with_adapters(calls).build()
    logs = tmp_path / "logs"
    logs.mkdir()
    assert dr.execute(["size"], inputs={"log_dir": str(logs), "failures": 1, "kind": ""}) == {
        "size": 102
    }
    lines = (tmp_path / "calls.txt").read_text().splitlines()
    assert lines == ["pre page", "post page False", "pre page", "post page True"] + [
        "pre size",
        "post size True",
    ]


def test_async_nodes_retry_without_blocking_the_loop(tmp_path):
    from cayley import async_driver

    flow = ad_hoc_utils.module_from_source(
        """
from cayley.function_modifiers import retry

COUNT = {"n": 0}

@retry(attempts=4, on=TimeoutError, backoff_seconds=0.01)
async def answer(x: int) -> int:
    COUNT["n"] += 1
    if COUNT["n"] < 3:
        raise TimeoutError("slow")
    return x + COUNT["n"]
"""
    )

    async def run():
        dr = await async_driver.Builder().with_modules(flow).build()
        return await dr.execute(["answer"], inputs={"x": 10})

    assert asyncio.run(run()) == {"answer": 13}


# ---- validation ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"attempts": 0}, "at least 1, got 0"),
        ({"attempts": 2.5}, "whole number"),
        ({"attempts": True}, "whole number"),
        ({"on": int}, "exception class or a tuple"),
        ({"on": ()}, "an empty tuple"),
        ({"on": KeyboardInterrupt}, "subclasses of Exception"),
        ({"on": (ValueError, "KeyError")}, "'KeyError'"),
        ({"backoff_seconds": -1}, "0 or more, got -1"),
        ({"backoff_seconds": math.nan}, "finite"),
        ({"backoff_seconds": "1"}, "finite number"),
    ],
)
def test_arguments_are_checked_with_clear_errors(kwargs, message):
    with pytest.raises(InvalidDecoratorException, match=message):
        retry(**kwargs)


def test_two_retries_on_one_function_are_rejected():
    def twice(x: int) -> int:
        return x

    with pytest.raises(InvalidDecoratorException, match="at most one"):
        retry(attempts=2)(retry(attempts=3)(twice))
