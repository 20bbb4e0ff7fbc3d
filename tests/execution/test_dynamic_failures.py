"""Failures during dynamic execution: what surfaces, what is cancelled, what is cleaned up."""

from __future__ import annotations

import threading

import pytest

from cayley import ad_hoc_utils
from cayley.execution.executors import SerializationError
from cayley.graph import ScopeError
from cayley.lifecycle import api
from tests.resources import dyn_failing
from tests.resources.dyn_failing import ItemFailure
from tests.resources.dyn_harness import assert_no_worker_processes, build, live_worker_pids


@pytest.fixture
def before():
    """Worker processes alive before the test (started by other tests of the session)."""
    return live_worker_pids()


def _marks(tmp_path):
    mark_dir = tmp_path / "marks"
    mark_dir.mkdir()
    return mark_dir


def _notes(exc: BaseException) -> str:
    return "\n".join(getattr(exc, "__notes__", []))


# ---- an item fails -------------------------------------------------------------------------
def test_item_failure_surfaces_with_its_original_type_and_notes(kind, tmp_path, before):
    dr = build(kind, dyn_failing)
    inputs = {"n": 6, "bad": 4, "mark_dir": str(_marks(tmp_path))}
    with pytest.raises(ItemFailure, match="item 4 is bad") as info:
        dr.execute(["total"], inputs=inputs)
    notes = _notes(info.value)
    assert "'work'" in notes
    assert "item 4 of 'items'" in notes
    assert_no_worker_processes(before)


@pytest.mark.timeout(60)
def test_item_failure_on_spawned_processes(tmp_path, before):
    dr = build("spawn", dyn_failing)
    inputs = {"n": 4, "bad": 1, "mark_dir": str(_marks(tmp_path))}
    with pytest.raises(ItemFailure) as info:
        dr.execute(["total"], inputs=inputs)
    assert "item 1 of 'items'" in _notes(info.value)
    assert_no_worker_processes(before)


def test_failure_late_in_a_long_run_names_the_right_item(kind, tmp_path):
    """Items may be batched into one task: the note still names the failing item."""
    dr = build(kind, dyn_failing)
    inputs = {"n": 400, "bad": 357, "mark_dir": str(_marks(tmp_path))}
    with pytest.raises(ItemFailure, match="item 357 is bad") as info:
        dr.execute(["total"], inputs=inputs)
    assert "item 357 of 'items'" in _notes(info.value)
    assert "item 356" not in _notes(info.value)


def test_nested_item_failure_names_the_whole_item_path(kind):
    dr = build(kind, dyn_failing)
    inputs = {"n_outer": 3, "n_inner": 3, "bad_pair": (1, 2)}
    with pytest.raises(ValueError, match=r"pair \(1, 2\) is bad") as info:
        dr.execute(["outer_totals"], inputs=inputs)
    notes = _notes(info.value)
    assert "'inner_work'" in notes
    assert "item 2 of 'inner'" in notes
    assert "item 1 of 'outer'" in notes


def test_exception_class_from_a_run_time_module_keeps_its_identity(kind):
    module = ad_hoc_utils.module_from_source(
        """
from cayley.htypes import Collect, Parallelizable

class Oops(Exception):
    pass

def things(n: int) -> Parallelizable[int]:
    yield from range(n)

def checked(things: int) -> int:
    if things == 2:
        raise Oops(f"thing {things}")
    return things

def checked_all(checked: Collect[int]) -> list[int]:
    return list(checked)
"""
    )
    dr = build(kind, module)
    with pytest.raises(module.Oops, match="thing 2"):
        dr.execute(["checked_all"], inputs={"n": 4})


def test_pending_items_are_cancelled_after_a_failure(kind, tmp_path, before):
    n = 100
    mark_dir = _marks(tmp_path)
    dr = build(kind, dyn_failing)
    inputs = {"n": n, "bad": 2, "mark_dir": str(mark_dir), "delay": 0.02}
    with pytest.raises(ItemFailure):
        dr.execute(["total"], inputs=inputs)
    assert_no_worker_processes(before)
    started = sorted(int(p.name.split(".")[0]) for p in mark_dir.iterdir())
    # the failing item ran; items queued behind it were dropped, not run (on a loaded
    # machine an earlier item may still have been waiting for its worker when the run
    # stopped, so only the failing item is certain to have started)
    assert 2 in started, started
    assert len(started) < n // 2, started


def test_driver_runs_again_after_a_failure(kind, tmp_path, before):
    dr = build(kind, dyn_failing)
    mark_dir = str(_marks(tmp_path))
    with pytest.raises(ItemFailure):
        dr.execute(["total"], inputs={"n": 5, "bad": 0, "mark_dir": mark_dir})
    result = dr.execute(["total"], inputs={"n": 5, "bad": -1, "mark_dir": mark_dir})
    assert result == {"total": 10}
    assert_no_worker_processes(before)


class _GraphOutcome(api.GraphExecutionHook):
    def __init__(self):
        self.after = []

    def run_before_graph_execution(self, **kwargs):
        pass

    def run_after_graph_execution(self, *, success, error, results, **kwargs):
        self.after.append((success, error, results))


def test_graph_hook_sees_the_failure(kind, tmp_path):
    hook = _GraphOutcome()
    dr = build(kind, dyn_failing, adapters=[hook])
    with pytest.raises(ItemFailure) as info:
        dr.execute(["total"], inputs={"n": 3, "bad": 1, "mark_dir": str(_marks(tmp_path))})
    assert len(hook.after) == 1
    success, error, results = hook.after[0]
    assert success is False and results is None
    assert error is info.value


# ---- values that cannot cross the process boundary ------------------------------------------
def test_unpicklable_input_used_in_a_block_names_node_and_argument(process_kind, before):
    dr = build(process_kind, dyn_failing)
    with pytest.raises(SerializationError) as info:
        dr.execute(["guarded_total"], inputs={"n": 3, "guard": threading.Lock()})
    message = str(info.value)
    assert "guarded" in message
    assert "guard" in message
    assert "lock" in message.lower()
    assert isinstance(info.value, TypeError)
    assert_no_worker_processes(before)


@pytest.mark.parametrize("kind_", ["plain", "sync", "threads"])
def test_unpicklable_input_is_fine_in_process(kind_):
    dr = build(kind_, dyn_failing)
    assert dr.execute(["guarded_total"], inputs={"n": 3, "guard": threading.Lock()}) == {
        "guarded_total": 3
    }


@pytest.mark.timeout(60)
def test_unpicklable_result_from_a_worker_names_the_node():
    dr = build("fork", dyn_failing)
    with pytest.raises(TypeError) as info:
        dr.execute(["lock_count"], inputs={"n": 3})
    assert "lock_per_item" in str(info.value) + _notes(info.value)


# ---- bad expanders -------------------------------------------------------------------------------
def test_non_iterable_from_parallelizable_errors_clearly(kind):
    dr = build(kind, dyn_failing)
    with pytest.raises(TypeError) as info:
        dr.execute(["not_iterable_total"], inputs={"n": 3})
    text = str(info.value) + _notes(info.value)
    assert "not_iterable" in text
    assert "not iterable" in text


def test_generator_failing_midway_names_the_item(kind):
    dr = build(kind, dyn_failing)
    with pytest.raises(LookupError, match="ran dry") as info:
        dr.execute(["midway_total"], inputs={"n": 6})
    assert "item 3 of node 'breaks_midway'" in _notes(info.value)


@pytest.mark.timeout(60)
def test_non_iterable_from_an_expander_running_in_a_worker_errors_clearly():
    dr = build("fork", dyn_failing, everything_remote=True)
    with pytest.raises(TypeError) as info:
        dr.execute(["not_iterable_total"], inputs={"n": 3})
    assert "not_iterable" in str(info.value) + _notes(info.value)


@pytest.mark.timeout(60)
def test_generator_failing_midway_in_a_worker_names_the_node():
    dr = build("fork", dyn_failing, everything_remote=True)
    with pytest.raises(LookupError) as info:
        dr.execute(["midway_total"], inputs={"n": 6})
    assert "breaks_midway" in _notes(info.value)


# ---- errors caught when the graph is built --------------------------------------------------------
def test_collect_outside_any_block_is_a_build_error():
    module = ad_hoc_utils.module_from_source(
        """
from cayley.htypes import Collect

def plain_value(x: int) -> int:
    return x

def gathered(plain_value: Collect[int]) -> int:
    return sum(plain_value)
"""
    )
    with pytest.raises(ScopeError) as info:
        build("sync", module)
    message = str(info.value)
    assert "gathered" in message and "plain_value" in message
    assert "not inside a Parallelizable block" in message


def test_mixing_items_of_two_fan_outs_is_a_build_error():
    module = ad_hoc_utils.module_from_source(
        """
from cayley.htypes import Collect, Parallelizable

def lefts(n: int) -> Parallelizable[int]:
    yield from range(n)

def rights(n: int) -> Parallelizable[int]:
    yield from range(n)

def left_val(lefts: int) -> int:
    return lefts

def mixed(left_val: int, rights: int) -> int:
    return left_val + rights

def mixed_all(mixed: Collect[int]) -> list[int]:
    return list(mixed)
"""
    )
    for kind in ("plain", "sync"):
        with pytest.raises(ScopeError) as info:
            build(kind, module)
        message = str(info.value)
        assert "mixed" in message
        assert "different Parallelizable blocks" in message
        assert "lefts" in message and "rights" in message


def test_collect_next_to_per_item_values_of_the_same_block_is_a_build_error():
    module = ad_hoc_utils.module_from_source(
        """
from cayley.htypes import Collect, Parallelizable

def things(n: int) -> Parallelizable[int]:
    yield from range(n)

def thing_val(things: int) -> int:
    return things

def confused(thing_val: Collect[int], things: int) -> int:
    return sum(thing_val) + things
"""
    )
    with pytest.raises(ScopeError, match="confused"):
        build("sync", module)
