"""The executor contract: ``submit(task) -> Future``, a declared capacity, Hamilton's names."""

from __future__ import annotations

import concurrent.futures
import threading

import pytest

from cayley import ad_hoc_utils, driver
from cayley.execution import executors
from cayley.execution.contract import TaskExecutor
from tests.engine.conftest import FAN_OUT, dynamic


def _flow():
    return ad_hoc_utils.module_from_source(FAN_OUT)


def test_the_synchronous_executor_returns_a_finished_future():
    calls = []

    class Spy(executors.SynchronousLocalTaskExecutor):
        def submit(self, task):
            future = super().submit(task)
            calls.append((future.done(), threading.current_thread() is threading.main_thread()))
            return future

    dr = dynamic(_flow(), Spy())
    assert dr.execute(["total"], inputs={"n": 30}) == {"total": sum(i * i for i in range(30))}
    assert calls and all(done and main for done, main in calls)
    finished = executors.FinishedFuture([(1,)])
    assert finished.done() and finished.result() == [(1,)] and finished.exception() is None
    seen = []
    finished.add_done_callback(seen.append)
    assert seen == [finished]
    failed = executors.FinishedFuture(error=KeyError("k"))
    with pytest.raises(KeyError):
        failed.result()
    assert executors.TaskFuture(failed).get_state() == executors.TaskState.FAILED


def test_a_synchronous_task_error_is_in_its_future_and_reaches_the_caller():
    flow = ad_hoc_utils.module_from_source(
        """
def broken(x: int) -> int:
    raise LookupError(f"no {x}")
"""
    )
    task_future = executors.SynchronousLocalTaskExecutor()
    seen = []

    class Spy(type(task_future)):
        def submit(self, task):
            future = super().submit(task)
            seen.append(type(future.exception()).__name__)
            return future

    dr = driver.Builder().with_modules(flow).with_local_executor(Spy()).build()
    with pytest.raises(LookupError, match="no 3"):
        dr.execute(["broken"], inputs={"x": 3})
    assert seen == ["LookupError"]


def test_an_executor_written_against_submit_task_still_runs():
    """Hamilton's interface: submit_task returning a TaskFuture, can_submit_task."""

    class HamiltonStyle(TaskExecutor):
        def __init__(self):
            self.submitted = 0

        def submit_task(self, task):
            self.submitted += 1
            return executors.TaskFuture.completed(executors.base_execute_task(task))

        def can_submit_task(self):
            return True

    remote = HamiltonStyle()
    assert dynamic(_flow(), remote).execute(["total"], inputs={"n": 5}) == {"total": 30}
    assert remote.submitted >= 1


def test_an_executor_implementing_neither_submit_says_what_to_do():
    class Empty(TaskExecutor):
        pass

    with pytest.raises(NotImplementedError, match=r"implement submit\(task\)"):
        dynamic(_flow(), Empty()).execute(["total"], inputs={"n": 2})


def test_submit_task_returns_hamiltons_future_view():
    executor = executors.MultiThreadingExecutor(1)
    flow = ad_hoc_utils.module_from_source("def one() -> int:\n    return 1\n")
    dr = driver.Builder().with_modules(flow).build()
    plan = dr._plan_for(["one"], [], [])
    from cayley.execution.runner import Task

    task = Task(plan.groups[0].template, [{}], None, "run")
    future = executor.submit_task(task)
    assert isinstance(future, executors.TaskFuture)
    assert future.get_result() == [(1,)]
    assert future.get_state() == executors.TaskState.SUCCESSFUL
    executor.finalize()


def test_at_most_capacity_tasks_are_in_flight():
    lock = threading.Lock()
    state = {"now": 0, "peak": 0}

    class Counting(executors.MultiThreadingExecutor):
        def submit(self, task):
            with lock:
                state["now"] += 1
                state["peak"] = max(state["peak"], state["now"])
            future = super().submit(task)

            def done(_):
                with lock:
                    state["now"] -= 1

            future.add_done_callback(done)
            return future

    flow = ad_hoc_utils.module_from_source(
        """
import time
from cayley.htypes import Collect, Parallelizable

def items(n: int) -> Parallelizable[int]:
    yield from range(n)

def slow(items: int) -> int:
    time.sleep(0.01)
    return items

def total(slow: Collect[int]) -> int:
    return sum(slow)
"""
    )
    remote = Counting(8)
    remote.capacity = 3  # eight threads, but at most three tasks at once
    assert dynamic(flow, remote).execute(["total"], inputs={"n": 40}) == {"total": 780}
    assert 1 <= state["peak"] <= 3


def test_the_manager_routes_with_a_real_task_once_per_template():
    asked = []

    class Recording(executors.DefaultExecutionManager):
        def get_executor_for_task(self, task):
            asked.append((task.template.base_id, len(task.inputs)))
            return super().get_executor_for_task(task)

    manager = Recording(
        executors.SynchronousLocalTaskExecutor(), executors.MultiThreadingExecutor(2)
    )
    dr = driver.Builder().with_modules(_flow()).with_execution_manager(manager).build()
    assert dr.execute(["total"], inputs={"n": 50}) == {"total": sum(i * i for i in range(50))}
    assert sorted(asked) == [("block-items", 1), ("root", 1), ("root-1", 1)]


def test_capabilities_are_declared_on_every_executor():
    for executor in (
        executors.SynchronousLocalTaskExecutor(),
        executors.MultiThreadingExecutor(2),
        executors.MultiProcessingExecutor(2),
    ):
        assert isinstance(executor.capacity, int) and executor.capacity >= 1
        assert isinstance(executor.in_process, bool)
        assert isinstance(executor.keeps_values_remote, bool)
        assert executor.chunk_target_seconds > 0
    assert executors.MultiProcessingExecutor(3).capacity == 6
    assert not executors.MultiProcessingExecutor(3).in_process
    assert executors.MultiThreadingExecutor(3).in_process


def test_a_future_of_another_kind_is_rejected_with_a_clear_error():
    class Odd(TaskExecutor):
        def submit_task(self, task):
            return object()

    with pytest.raises(TypeError, match="return a TaskFuture"):
        dynamic(_flow(), Odd()).execute(["total"], inputs={"n": 2})


def test_a_concurrent_future_from_submit_task_is_accepted():
    pool = concurrent.futures.ThreadPoolExecutor(1)

    class Plain(TaskExecutor):
        def submit_task(self, task):
            return pool.submit(executors.base_execute_task, task)

    try:
        assert dynamic(_flow(), Plain()).execute(["total"], inputs={"n": 4}) == {"total": 14}
    finally:
        pool.shutdown()
