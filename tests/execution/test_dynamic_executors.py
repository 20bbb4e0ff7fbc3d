"""Executor configurations: which executor runs which task, and the Builder's options."""

from __future__ import annotations

import pytest

from cayley import driver
from cayley.execution import executors
from cayley.execution.grouping import NodeGroupPurpose
from tests.resources import dyn_mapreduce, dyn_nested
from tests.resources.dyn_harness import AllOn, build

REQUESTS = [
    (["top", "grand_total", "inner_val"], {"n_outer": 3, "n_inner": 2, "bias": 2}),
    (["shares", "regrouped_total", "pairs", "items_back"], {"n": 5, "scale": 2}),
    (["as_list"], {"n": 0, "scale": 2}),
]


def _configurations():
    sync = executors.SynchronousLocalTaskExecutor
    threads = executors.MultiThreadingExecutor
    procs = executors.MultiProcessingExecutor
    return {
        "manager-sync-threads": lambda b: b.with_execution_manager(
            executors.DefaultExecutionManager(sync(), threads(3))
        ),
        "local-threads-remote-sync": lambda b: b.with_local_executor(
            threads(2)
        ).with_remote_executor(sync()),
        "local-threads-remote-fork": lambda b: b.with_local_executor(
            threads(2)
        ).with_remote_executor(procs(2, start_method="fork")),
        "local-fork-remote-threads": lambda b: b.with_local_executor(
            procs(2, start_method="fork")
        ).with_remote_executor(threads(2)),
        "all-on-one-thread": lambda b: b.with_execution_manager(AllOn(threads(1))),
        "all-on-threads": lambda b: b.with_execution_manager(AllOn(threads(4))),
        "default-remote": lambda b: b,
    }


CONFIGURATIONS = _configurations()


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", list(CONFIGURATIONS))
def test_executor_configurations_agree_with_the_plain_driver(name):
    reference = build("plain", dyn_nested, dyn_mapreduce)
    builder = (
        driver.Builder()
        .with_modules(dyn_nested, dyn_mapreduce)
        .enable_dynamic_execution(allow_experimental_mode=True)
    )
    dr = CONFIGURATIONS[name](builder).build()
    for outputs, inputs in REQUESTS:
        assert dr.execute(outputs, inputs=inputs) == reference.execute(outputs, inputs=inputs)


def test_execution_manager_excludes_local_and_remote_executors():
    manager = executors.DefaultExecutionManager(
        executors.SynchronousLocalTaskExecutor(), executors.SynchronousLocalTaskExecutor()
    )
    with pytest.raises(driver.InvalidExecutorException):
        driver.Builder().with_execution_manager(manager).with_local_executor(
            executors.SynchronousLocalTaskExecutor()
        )
    with pytest.raises(driver.InvalidExecutorException):
        driver.Builder().with_remote_executor(
            executors.SynchronousLocalTaskExecutor()
        ).with_execution_manager(manager)


@pytest.mark.parametrize(
    "cls", [executors.MultiThreadingExecutor, executors.MultiProcessingExecutor]
)
def test_pool_executors_need_at_least_one_worker(cls):
    with pytest.raises(ValueError, match="max_tasks"):
        cls(0)


def test_default_manager_sends_blocks_remote_and_the_rest_local():
    """A custom executor (Hamilton's interface) sees exactly the per-item tasks."""

    class Recording(executors.TaskExecutor):
        def __init__(self):
            self.seen = []
            self.initialised = self.finalised = 0

        def init(self):
            self.initialised += 1

        def finalize(self):
            self.finalised += 1

        def submit_task(self, task):
            self.seen.append(task.template.purpose)
            return executors.TaskFuture.completed(executors.base_execute_task(task))

        def can_submit_task(self):
            return True

    local, remote = Recording(), Recording()
    dr = (
        driver.Builder()
        .with_modules(dyn_mapreduce)
        .with_execution_manager(executors.DefaultExecutionManager(local, remote))
        .build()
    )
    assert dr.execute(["total", "shifted"], inputs={"n": 4, "scale": 1}) == {
        "total": 6,
        "shifted": [0, 1, 2, 3],
    }
    assert remote.seen and set(remote.seen) == {NodeGroupPurpose.EXECUTE_BLOCK}
    assert local.seen and NodeGroupPurpose.EXECUTE_BLOCK not in set(local.seen)
    assert (local.initialised, local.finalised) == (1, 1)
    assert (remote.initialised, remote.finalised) == (1, 1)


@pytest.mark.timeout(60)
def test_custom_executor_that_refuses_work_for_a_while():
    """can_submit_task returning False holds tasks back without losing or reordering items."""

    class Throttled(executors.MultiThreadingExecutor):
        def __init__(self):
            super().__init__(2)
            self.refusals = 0

        def can_submit_task(self):
            if self.refusals < 20:
                self.refusals += 1
                return False
            return super().can_submit_task()

    dr = driver.Builder().with_modules(dyn_mapreduce).with_remote_executor(Throttled()).build()
    assert dr.execute(["as_list"], inputs={"n": 30, "scale": 3}) == {
        "as_list": [3 * i for i in range(30)]
    }
