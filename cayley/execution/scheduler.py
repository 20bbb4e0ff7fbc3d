"""The scheduler: one loop that runs a compiled plan to completion.

The loop owns no run state of its own (that is :class:`~cayley.execution.state.RunState`):
it takes ready instances, batches them into tasks, submits each task to its executor through
the one contract (``submit(task) -> Future``, at most ``capacity`` in flight), and hands what
comes back to the state. A synchronous executor returns a finished future, which is settled
at once; other futures report to a queue when they finish, and the loop blocks on that queue
only when nothing else can move. It never spins.

Items are pulled from generators lazily, only while queued and running work stays below a
high-water mark, so memory does not grow with the items still to come. An executor with a
free slot gets work as soon as one item (or one batch, once item times are known) is ready:
the first item of a slow generator starts while the generator is still producing. Pulls
last at most a few milliseconds of generator time, so finished tasks are collected between
them. Ready instances of one template are batched into a single task when items are cheap,
sized from the measured time per item (kept on the plan, so later runs batch from their
first task) and the executor's preferred task duration.
"""

from __future__ import annotations

import itertools
import queue
import time
from collections.abc import Iterator
from typing import Any, NamedTuple

from cayley._compat import add_note
from cayley.execution.contract import TaskExecutor
from cayley.execution.executors import ExecutionManager
from cayley.execution.plan_model import ExecutionPlan, GroupPlan
from cayley.execution.remote import resolve_remote
from cayley.execution.runner import Task, TaskLabel
from cayley.execution.state import Expansion, RunState
from cayley.lifecycle.base import LifecycleAdapterSet, call_hooks, note_adapter_error

__all__ = ["InFlight", "run_plan"]

#: Most items in one task sent to another process, and in one task run in this process
#: (no round trip to save: a bigger batch would only keep more items in memory).
_MAX_CHUNK = 1024
_MAX_IN_PROCESS_CHUNK = 256
#: Longest stretch of generator time (seconds) between two looks at the tasks in flight.
_PULL_SLICE = 0.005
#: Queued and running items allowed before any executor asks for more.
_HIGH_WATER = 512


class InFlight(NamedTuple):
    """A submitted task and what the loop needs when it comes back."""

    task: Task
    group: GroupPlan
    instances: list[Any]  # Instance or LightItem, one per item of the task
    executor: TaskExecutor


class _Loop:
    """Submits and collects the tasks of one run."""

    def __init__(
        self,
        plan: ExecutionPlan,
        constants: dict[str, Any],
        run_id: str,
        manager: ExecutionManager,
        adapters: LifecycleAdapterSet,
        label_tasks: bool,
    ) -> None:
        self.plan = plan
        self.run_id = run_id
        self.manager = manager
        self.adapters = adapters
        self.node_adapters = (
            adapters if (adapters.has_node_hooks or adapters.has_task_hooks) else None
        )
        self.label_tasks = label_tasks
        self.submission_hooks = adapters.pre_task_submission
        self.return_hooks = adapters.post_task_return
        self.expand_hooks = adapters.post_task_expand
        self.state = RunState(plan, constants, keep_items=bool(self.expand_hooks))
        self.executors: dict[int, TaskExecutor] = {}  # per template (GroupPlan.index)
        self.busy: dict[int, int] = {}  # per executor (by id): tasks in flight
        self.inflight: dict[Any, InFlight] = {}  # future -> its task
        self.inflight_items = 0
        self.finished: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.remote_results = False  # whether an executor may return RemoteValue objects
        self.high_water = _HIGH_WATER

    # ---- routing and sizing ---------------------------------------------------------------
    def route(self, group: GroupPlan, task: Task) -> TaskExecutor:
        """The template's executor, chosen by the manager from its first task."""
        executor = self.manager.get_executor_for_task(task)
        self.executors[group.index] = executor
        self.busy.setdefault(id(executor), 0)
        self.high_water = max(self.high_water, executor.capacity * 8)
        if executor.keeps_values_remote:
            self.remote_results = True
        return executor

    def target_chunk(self, group: GroupPlan, executor: TaskExecutor) -> int:
        """Items per task for ``group``: about ``chunk_target_seconds`` of measured work."""
        if group.depth == 0:
            return 1
        per_item = group.item_seconds
        if per_item is None:
            return 1
        most = _MAX_IN_PROCESS_CHUNK if executor.in_process else _MAX_CHUNK
        return max(1, min(int(executor.chunk_target_seconds / max(per_item, 1e-7)), most))

    def chunk_size(self, group: GroupPlan, executor: TaskExecutor, available: int) -> int:
        """Items for the next task of ``group``, out of ``available`` ready ones."""
        size = self.target_chunk(group, executor)
        capacity = max(1, executor.capacity)
        if size > 1:
            # Let enough items queue up for every slot to get a full chunk.
            self.high_water = max(self.high_water, 2 * size * capacity)
        return min(size, max(1, available // capacity))

    def pull_budget(self, expansion: Expansion) -> int:
        """How many items to pull from ``expansion`` before the loop looks around again.

        As many as there is room for; only one task's worth when the executor of the items
        has a free slot, so that it starts at once. (Pulls also stop after
        :data:`_PULL_SLICE` seconds of generator time.)
        """
        state = self.state
        budget = max(1, self.high_water - state.ready_count - self.inflight_items)
        groups = expansion.plan.groups
        if groups:
            group = groups[0]
            executor = self.executors.get(group.index)
            if executor is not None and self.busy[id(executor)] < executor.capacity:
                budget = min(budget, self.target_chunk(group, executor))
        return budget

    # ---- tasks ----------------------------------------------------------------------------
    def label(self, group: GroupPlan, instance: Any) -> TaskLabel:
        """Who the task of ``group`` for ``instance`` is, for hooks and errors."""
        expansion = instance.expansion
        if expansion is None:
            return TaskLabel(group.base_id)
        return TaskLabel(
            instance.prefix() + group.base_id,
            expansion.spawner_id(),
            instance.item_path(),
            instance.index,
            expansion.expander,
        )

    def labels(self, group: GroupPlan, instances: list[Any]) -> list[TaskLabel]:
        """:meth:`label` of each instance; the same values, built with less overhead per item
        (a task may batch hundreds)."""
        if instances[0].expansion is None:
            return [self.label(group, instance) for instance in instances]
        base = group.base_id
        new = tuple.__new__  # TaskLabel's own __new__ only adds a Python call per label
        labels = []
        append = labels.append
        for instance in instances:
            expansion = instance.expansion
            index = instance.index
            append(
                new(
                    TaskLabel,
                    (
                        f"{expansion.id_head}{index}.{base}",
                        expansion.spawner_task_id,
                        f"item {index}{expansion.path_tail}",
                        index,
                        expansion.expander,
                    ),
                )
            )
        return labels

    def make_task(self, group: GroupPlan, instances: list[Any]) -> Task:
        """The task running ``group`` for ``instances``, before an executor is chosen."""
        labels = self.labels(group, instances) if self.label_tasks else None
        if group.light:
            inputs = [item.inputs for item in instances]
        else:
            inputs_of = self.state.inputs_of
            inputs = [inputs_of(instance, group) for instance in instances]
        return Task(group.template, inputs, labels, self.run_id, self.node_adapters)

    def adapt(self, task: Task, executor: TaskExecutor) -> Task:
        """``task`` made ready for an executor in another process or one keeping values
        remote: expanders are drained there, values it cannot reach are fetched."""
        task.materialize_expanders = not executor.in_process
        if self.remote_results:
            for values in task.inputs:
                for key, value in values.items():
                    values[key] = resolve_remote(value, keep=executor)
        return task

    def dispatch(self) -> bool:
        """Submits ready work (later templates first); True if anything was submitted."""
        state = self.state
        progressed = False
        groups = self.plan.groups
        busy = self.busy
        for index in sorted(state.ready_groups, reverse=True):
            group = groups[index]
            ready = state.ready[index]
            while ready:
                executor = self.executors.get(index)
                first = None
                if executor is None:
                    first = self.make_task(group, [ready[0]])
                    executor = self.route(group, first)
                if busy[id(executor)] >= executor.capacity or not executor.can_submit_task():
                    break
                if group.depth == 0:  # one instance: the root's
                    instances = [ready.popleft()]
                else:
                    size = min(self.chunk_size(group, executor, len(ready)), len(ready))
                    instances = [ready.popleft() for _ in range(size)]
                if first is None or len(instances) > 1:
                    first = self.make_task(group, instances)
                if self.remote_results or not executor.in_process:
                    self.adapt(first, executor)
                state.ready_count -= len(instances)
                self.submit(first, group, instances, executor)
                progressed = True
            if not ready:
                state.ready_groups.discard(index)
        return progressed

    def submit(
        self, task: Task, group: GroupPlan, instances: list[Any], executor: TaskExecutor
    ) -> None:
        """Hands a task to its executor; settles it at once if it is already done."""
        if self.submission_hooks:
            labels = task.labels or [TaskLabel(group.base_id)] * len(task.inputs)
            for label, inputs in zip(labels, task.inputs):
                call_hooks(
                    self.submission_hooks,
                    run_id=self.run_id,
                    nodes=list(_public_nodes(group)),
                    inputs=dict(inputs),
                    overrides={},
                    purpose=group.template.purpose,
                    **label.hook_kwargs(),
                )
        future = executor.submit(task)
        if future.done():
            self.settle(future, task, group, instances)
            return
        self.busy[id(executor)] += 1
        self.inflight[future] = InFlight(task, group, instances, executor)
        self.inflight_items += len(instances)
        future.add_done_callback(self.finished.put)

    # ---- results --------------------------------------------------------------------------
    def collect(self, block: bool) -> None:
        """Settles the tasks that finished; with ``block``, waits for one first."""
        finished = self.finished
        if block:
            self.settle_inflight(finished.get())
        while not finished.empty():
            self.settle_inflight(finished.get_nowait())

    def settle_inflight(self, future: Any) -> None:
        record = self.inflight.pop(future)
        self.busy[id(record.executor)] -= 1
        self.inflight_items -= len(record.instances)
        self.settle(future, record.task, record.group, record.instances)

    def settle(self, future: Any, task: Task, group: GroupPlan, instances: list[Any]) -> None:
        """Takes a finished task's rows (or raises its error, annotated)."""
        try:
            rows = future.result()
        except Exception as exc:
            if task.reports:
                self.receive_reports(task)
            self.fail(exc, task, group, instances)
            raise
        if task.reports:
            self.receive_reports(task)
        if task.elapsed:
            group.item_seconds = task.elapsed / len(instances)
        if self.return_hooks:
            rows = self.report_return(task, group, rows)
        if group.light:
            self.state.complete_light(group, instances, rows)
            return
        complete = self.state.complete
        for instance, row in zip(instances, rows):
            complete(instance, group, row)

    def receive_reports(self, task: Task) -> None:
        """Hands what worker copies of the adapters collected to the driver's adapters."""
        for receive, report in zip(self.adapters.receive_worker_report, task.reports or ()):
            if report is not None:
                try:
                    receive(report=report)
                except BaseException as exc:
                    note_adapter_error(exc, receive)
                    raise

    def report_return(
        self, task: Task, group: GroupPlan, rows: list[tuple[Any, ...]]
    ) -> list[tuple[Any, ...]]:
        """Calls the task-return hooks for each item of a successful task; returns the rows.

        An expander's generator is split in two (:func:`itertools.tee`): the hooks get one
        branch, the run the other, so a hook that reads the items does not take them from
        the run, and one that does not read them does not make the run wait for them.
        """
        exports = group.template.exports
        kept: list[tuple[Any, ...]] = []
        for label, row in zip(task.labels or [TaskLabel(group.base_id)] * len(rows), rows):
            result = dict(zip(exports, row))
            if group.expander_exports:
                values = list(row)
                for pos, name in group.expander_exports:
                    items = values[pos]
                    if isinstance(items, Iterator):  # one pass only: give hooks their own
                        values[pos], result[name] = itertools.tee(items)
                row = tuple(values)
            kept.append(row)
            call_hooks(
                self.return_hooks,
                run_id=self.run_id,
                nodes=list(_public_nodes(group)),
                result=result,
                success=True,
                error=None,
                purpose=group.template.purpose,
                **label.hook_kwargs(),
            )
        return kept

    def fail(self, exc: BaseException, task: Task, group: GroupPlan, instances: list[Any]) -> None:
        """Names the failing item (or the batch) on ``exc``; tells the return hooks."""
        index = task.failed_item
        if index is not None and index < len(instances):
            path = instances[index].item_path()
            if path:
                add_note(exc, f"for {path} (task {instances[index].prefix()}{group.base_id})")
        elif len(instances) > 1:
            paths = [instance.item_path() for instance in instances[:5]]
            more = f" and {len(instances) - 5} more" if len(instances) > 5 else ""
            add_note(exc, f"in a batch of {len(instances)} items: {'; '.join(paths)}{more}")
        if self.return_hooks:
            labels = task.labels or [TaskLabel(group.base_id)]
            label = labels[index] if index is not None and index < len(labels) else labels[0]
            call_hooks(
                self.return_hooks,
                run_id=self.run_id,
                nodes=list(_public_nodes(group)),
                result=None,
                success=False,
                error=exc,
                purpose=group.template.purpose,
                **label.hook_kwargs(),
            )

    def report_expansions(self) -> None:
        """Tells the expansion hooks about generators that ended."""
        exhausted = self.state.exhausted
        if not exhausted:
            return
        self.state.exhausted = []
        if self.expand_hooks:
            for expansion in exhausted:
                call_hooks(
                    self.expand_hooks,
                    run_id=self.run_id,
                    task_id=expansion.expansion_id(),
                    parameters={str(i): item for i, item in enumerate(expansion.items or [])},
                )

    # ---- the loop -------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        state = self.state
        root = state.root
        finished = self.finished
        backoff = 0.0005
        while root.pending:
            if self.inflight and not finished.empty():
                self.collect(block=False)
                continue
            if state.ready_count and self.dispatch():
                backoff = 0.0005
                continue
            if state.ready_count + self.inflight_items < self.high_water:
                expansion = state.next_expansion()
                if expansion is not None:
                    until = time.perf_counter() + _PULL_SLICE
                    state.pull(expansion, self.pull_budget(expansion), until)
                    self.report_expansions()
                    continue
            if self.inflight:
                self.collect(block=True)
                continue
            if state.ready_count:
                # An executor refuses work although none of ours is in flight (it may be busy
                # with another run): wait for it with a growing pause rather than spin.
                time.sleep(backoff)
                backoff = min(backoff * 2, 0.05)
                continue
            raise RuntimeError(
                "The run cannot make progress: no task is ready, running or waiting for items. "
                f"Pending templates: {state.pending_templates()}"
            )
        outputs = state.outputs()
        if self.remote_results:
            return {name: resolve_remote(value) for name, value in outputs.items()}
        return outputs


def _public_nodes(group: GroupPlan) -> tuple[Any, ...]:
    template = group.template
    if not template.public_nodes and template.nodes:
        from cayley.graph_types import HamiltonNode

        template.public_nodes = tuple(HamiltonNode.from_node(n) for n in template.nodes)
    return template.public_nodes


def run_plan(
    plan: ExecutionPlan,
    constants: dict[str, Any],
    run_id: str,
    manager: ExecutionManager,
    adapters: LifecycleAdapterSet,
    label_tasks: bool = False,
) -> dict[str, Any]:
    """Runs ``plan`` with the given inputs and overrides; returns the requested outputs.

    On failure, pending work is cancelled and the executors are stopped before the original
    exception propagates; the same happens on ``KeyboardInterrupt``.
    """
    if adapters.pre_task_execute or adapters.post_task_execute or adapters.post_task_return:
        for group in plan.groups:
            _public_nodes(group)
    if adapters.post_task_group:
        call_hooks(
            adapters.post_task_group, run_id=run_id, task_ids=[g.base_id for g in plan.groups]
        )
    manager.init()
    try:
        loop = _Loop(plan, constants, run_id, manager, adapters, label_tasks)
        outputs = loop.run()
    except BaseException:
        manager.cancel()
        raise
    manager.finalize()
    return outputs
