"""The scheduler: one loop that runs a compiled plan to completion.

The root of the run is an *instance* of the root scope; every item a ``Parallelizable``
yields becomes an instance of the expander's block scope. Each instance runs each of its
scope's task templates once, as soon as that template's dependencies are met: templates of
the same instance, templates of enclosing instances, and fan-ins (all items of a child
expansion done). Items are pulled from generators lazily, only while the amount of queued
and running work is below a high-water mark, so memory does not grow with the number of
items still to come. Ready instances of one template are batched into a single task when
items are cheap. The loop waits on futures; it never spins.
"""

from __future__ import annotations

import concurrent.futures
import time
from collections import deque
from collections.abc import Iterator
from typing import Any

from cayley._compat import add_note
from cayley.execution.executors import ExecutionManager, TaskExecutor, TaskFuture
from cayley.execution.plan import COLLECTED, ExecutionPlan, GroupPlan, ScopePlan
from cayley.execution.runner import Task, TaskLabel, resolve_remote
from cayley.lifecycle.base import LifecycleAdapterSet, call_hooks

__all__ = ["run_plan"]

_MAX_CHUNK = 1024
_INLINE_CHUNK = 256


class Instance:
    """One execution of a scope: the root, or one item of a fan-out."""

    __slots__ = (
        "parent",
        "index",
        "depth",
        "plan",
        "env",
        "remaining",
        "done",
        "pending",
        "waiters",
        "expansions",
        "expansion",
    )

    def __init__(
        self,
        parent: Instance | None,
        index: int,
        plan: ScopePlan,
        env: dict[str, Any],
        expansion: Expansion | None,
    ) -> None:
        self.parent = parent
        self.index = index
        self.depth = plan.depth
        self.plan = plan
        self.env = env
        self.expansion = expansion
        waits = plan.initial_waits
        self.remaining = waits.copy()
        self.done = [False] * len(waits)
        self.pending = len(waits)
        self.waiters: dict[int, list[tuple[Instance, int]]] | None = None
        self.expansions: dict[str, Expansion] | None = None

    def ancestor(self, depth: int) -> Instance:
        """The enclosing instance at ``depth`` (this one if it is at that depth)."""
        instance = self
        while instance.depth > depth:
            instance = instance.parent  # type: ignore[assignment]
        return instance

    def prefix(self) -> str:
        """Path-like id prefix: ``expand-outer.3.expand-inner.0.``."""
        parts = []
        instance: Instance | None = self
        while instance is not None and instance.expansion is not None:
            parts.append(f"expand-{instance.expansion.expander}.{instance.index}.")
            instance = instance.parent
        return "".join(reversed(parts))

    def item_path(self) -> str:
        """Human description of the item, e.g. ``item 3 of 'urls'``."""
        parts = []
        instance: Instance | None = self
        while instance is not None and instance.expansion is not None:
            parts.append(f"item {instance.index} of {instance.expansion.expander!r}")
            instance = instance.parent
        return " in ".join(parts)


class LightItem:
    """An item of a light scope: its task inputs, without per-instance bookkeeping."""

    __slots__ = ("expansion", "index", "inputs")

    def __init__(self, expansion: Expansion, index: int, inputs: dict[str, Any]) -> None:
        self.expansion = expansion
        self.index = index
        self.inputs = inputs

    def prefix(self) -> str:
        """Path-like id prefix, as :meth:`Instance.prefix`."""
        expansion = self.expansion
        return f"{expansion.instance.prefix()}expand-{expansion.expander}.{self.index}."

    def item_path(self) -> str:
        """Human description of the item, as :meth:`Instance.item_path`."""
        expansion = self.expansion
        outer = expansion.instance.item_path()
        here = f"item {self.index} of {expansion.expander!r}"
        return f"{here} in {outer}" if outer else here


class Expansion:
    """The items of one ``Parallelizable`` node within one instance."""

    __slots__ = (
        "expander",
        "instance",
        "plan",
        "iterator",
        "count",
        "exhausted",
        "done_counts",
        "collected",
        "constants",
        "placeholders",
        "items",
    )

    def __init__(self, expander: str, instance: Instance, plan: ScopePlan, value: Any) -> None:
        self.expander = expander
        self.instance = instance
        self.plan = plan
        self.iterator: Iterator[Any] = iter(value)
        self.count = 0
        self.exhausted = False
        self.done_counts = [0] * len(plan.groups)
        self.collected: dict[str, list[Any]] = {name: [] for name in plan.collected_names}
        if plan.collects_items:
            self.collected[expander] = []
        root = instance.ancestor(0)
        self.constants = [(self.collected[n], root.env[n]) for n in plan.constant_names]
        self.placeholders = [
            self.collected[n] for n in plan.collected_names if n not in plan.constant_names
        ]
        self.items: list[Any] | None = None


class _Run:
    """State of one run of a plan."""

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
        self.ready: list[deque[Instance]] = [deque() for _ in plan.groups]
        self.ready_groups: set[int] = set()
        self.ready_count = 0
        self.inflight: dict[
            Any, tuple[TaskFuture, Task, GroupPlan, list[Instance], TaskExecutor]
        ] = {}
        self.inflight_items = 0
        self.active: list[Expansion] = []
        self.executors: dict[int, TaskExecutor] = {}
        self.item_seconds: dict[int, float] = {}
        self.root = Instance(None, 0, plan.root, dict(constants), None)
        self.remote_results = False  # whether any executor returned RemoteValue objects
        self.high_water = 2 * _INLINE_CHUNK

    # ---- bookkeeping ----------------------------------------------------------------------
    def start_instance(self, instance: Instance) -> None:
        plan = instance.plan
        remaining = instance.remaining
        for group in plan.groups:
            local = group.local_index
            for depth, ancestor_local in group.ancestor_deps:
                ancestor = instance.ancestor(depth)
                if not ancestor.done[ancestor_local]:
                    if ancestor.waiters is None:
                        ancestor.waiters = {}
                    ancestor.waiters.setdefault(ancestor_local, []).append((instance, local))
                    remaining[local] += 1
            if remaining[local] == 0:
                self.ready[group.index].append(instance)
                self.ready_groups.add(group.index)
                self.ready_count += 1

    def release(self, instance: Instance, local: int) -> None:
        instance.remaining[local] -= 1
        if instance.remaining[local] == 0:
            index = instance.plan.groups[local].index
            self.ready[index].append(instance)
            self.ready_groups.add(index)
            self.ready_count += 1

    def complete(self, instance: Instance, group: GroupPlan, row: tuple[Any, ...]) -> None:
        env = instance.env
        for pos, name in group.env_exports:
            env[name] = row[pos]
        expansion = instance.expansion
        if group.collect_exports:
            assert expansion is not None
            index = instance.index
            collected = expansion.collected
            for pos, name in group.collect_exports:
                collected[name][index] = row[pos]
        for pos, name in group.expander_exports:
            self.start_expansion(instance, name, row[pos])
        local = group.local_index
        instance.done[local] = True
        instance.pending -= 1
        for dependent in group.local_dependents:
            self.release(instance, dependent)
        if instance.waiters is not None:
            waiting = instance.waiters.pop(local, None)
            if waiting:
                for child, child_local in waiting:
                    self.release(child, child_local)
        if expansion is not None:
            expansion.done_counts[local] += 1
            if expansion.exhausted and expansion.done_counts[local] == expansion.count:
                self.fan_in(expansion, local)

    def fan_in(self, expansion: Expansion, local: int) -> None:
        for parent_local in expansion.plan.barrier_dependents.get(local, ()):
            self.release(expansion.instance, parent_local)

    def start_expansion(self, instance: Instance, expander: str, value: Any) -> None:
        plan = instance.plan.children[expander]
        try:
            expansion = Expansion(expander, instance, plan, value)
        except TypeError as exc:
            add_note(
                exc,
                f"node {expander!r} is annotated Parallelizable[...] but returned "
                f"{type(value).__name__}, which is not iterable",
            )
            raise
        if self.expand_hooks:
            expansion.items = []
        if instance.expansions is None:
            instance.expansions = {}
        instance.expansions[expander] = expansion
        self.active.append(expansion)

    def exhaust(self, expansion: Expansion) -> None:
        expansion.exhausted = True
        for local, done in enumerate(expansion.done_counts):
            if done == expansion.count:
                self.fan_in(expansion, local)
        self.fan_in(expansion, -1)
        if self.expand_hooks:
            call_hooks(
                self.expand_hooks,
                run_id=self.run_id,
                task_id=expansion.instance.prefix() + f"expand-{expansion.expander}",
                parameters={str(i): item for i, item in enumerate(expansion.items or [])},
            )

    def pullable(self, expansion: Expansion) -> bool:
        instance = expansion.instance
        for depth, local in expansion.plan.pull_prereqs:
            if not instance.ancestor(depth).done[local]:
                return False
        return True

    def pull(self) -> bool:
        """Takes items from the innermost pullable expansion; False if none could."""
        active = self.active
        for position in range(len(active) - 1, -1, -1):
            expansion = active[position]
            if expansion.exhausted:
                del active[position]
                continue
            if not self.pullable(expansion):
                continue
            self.pull_items(
                expansion, max(1, self.high_water - self.ready_count - self.inflight_items)
            )
            if expansion.exhausted:
                active.remove(expansion)
            return True
        return False

    def pull_items(self, expansion: Expansion, wanted: int) -> None:
        plan = expansion.plan
        iterator = expansion.iterator
        expander = expansion.expander
        collected_lists = expansion.placeholders
        constant_lists = expansion.constants
        items_list = expansion.collected.get(expander) if plan.collects_items else None
        hook_items = expansion.items
        parent = expansion.instance
        light_queue = None
        if plan.light:
            group = plan.groups[0]
            light_queue = self.ready[group.index]
            base = {}
            reads_item = False
            for name, _, depth in group.inputs:
                if depth == plan.depth:
                    reads_item = True
                else:
                    base[name] = parent.ancestor(depth).env[name]
            self.ready_groups.add(group.index)
        for _ in range(wanted):
            try:
                item = next(iterator)
            except StopIteration:
                self.exhaust(expansion)
                return
            except Exception as exc:
                add_note(
                    exc,
                    f"while producing item {expansion.count} of node {expander!r}"
                    + (f" in {parent.item_path()}" if parent.expansion is not None else ""),
                )
                raise
            index = expansion.count
            expansion.count = index + 1
            for values in collected_lists:
                values.append(None)
            for values, constant in constant_lists:
                values.append(constant)
            if items_list is not None:
                items_list.append(item)
            if hook_items is not None:
                hook_items.append(item)
            if light_queue is not None:
                inputs = base.copy()
                if reads_item:
                    inputs[expander] = item
                light_queue.append(LightItem(expansion, index, inputs))
                self.ready_count += 1
            elif plan.groups:
                self.start_instance(Instance(parent, index, plan, {expander: item}, expansion))

    # ---- dispatch -------------------------------------------------------------------------
    def executor_for(self, group: GroupPlan) -> TaskExecutor:
        executor = self.executors.get(group.index)
        if executor is None:
            # The manager sees a task of the template without items: routing is per template.
            probe = Task(group.template, [], None, self.run_id, self.node_adapters)
            executor = self.manager.get_executor_for_task(probe)
            self.executors[group.index] = executor
            if not executor.inline:
                self.high_water = max(self.high_water, executor.capacity * 8)
            if getattr(executor, "returns_remote_values", False):
                self.remote_results = True
        return executor

    def chunk_size(self, group: GroupPlan, executor: TaskExecutor, available: int) -> int:
        if group.depth == 0:
            return 1
        if executor.inline:
            return _INLINE_CHUNK
        per_item = self.item_seconds.get(group.index)
        if per_item is None:
            return 1
        size = max(1, min(int(executor.chunk_target_seconds / max(per_item, 1e-7)), _MAX_CHUNK))
        # Let enough items queue up for every worker to get a full chunk.
        self.high_water = max(self.high_water, 2 * size * max(1, executor.capacity))
        spread = max(1, available // max(1, executor.capacity))
        return min(size, spread)

    def inputs_of(self, instance: Instance, group: GroupPlan) -> dict[str, Any]:
        values: dict[str, Any] = {}
        depth = instance.depth
        for name, kind, arg in group.inputs:
            if kind == COLLECTED:
                values[name] = instance.expansions[arg].collected[name]  # type: ignore[index]
            elif arg == depth:
                values[name] = instance.env[name]
            else:
                values[name] = instance.ancestor(arg).env[name]
        return values

    def make_task(self, group: GroupPlan, instances: list[Any], executor: TaskExecutor) -> Task:
        labels = None
        if self.label_tasks:
            labels = []
            for instance in instances:
                prefix = instance.prefix()
                spawning = prefix[:-1] if prefix else None
                expansion = instance.expansion
                labels.append(
                    TaskLabel(
                        prefix + group.base_id,
                        spawning,
                        instance.item_path() or None,
                        instance.index if expansion is not None else None,
                        expansion.expander if expansion is not None else None,
                    )
                )
        if group.light:
            inputs = [item.inputs for item in instances]
        else:
            inputs = [self.inputs_of(instance, group) for instance in instances]
        if self.remote_results:
            for values in inputs:
                for key, value in values.items():
                    values[key] = resolve_remote(value, keep=executor)
        return Task(
            template=group.template,
            inputs=inputs,
            labels=labels,
            run_id=self.run_id,
            adapters=self.node_adapters,
            materialize_expanders=not executor.runs_in_process,
        )

    def dispatch(self) -> bool:
        """Submits ready work (later templates first); True if anything ran or was submitted."""
        progressed = False
        groups = self.plan.groups
        for index in sorted(self.ready_groups, reverse=True):
            group = groups[index]
            queue = self.ready[index]
            while queue:
                executor = self.executors.get(group.index)
                if executor is not None and not executor.inline and not executor.can_submit_task():
                    break
                if executor is None:
                    executor = self.executor_for(group)
                    if not executor.inline and not executor.can_submit_task():
                        break
                size = self.chunk_size(group, executor, len(queue))
                instances = [queue.popleft() for _ in range(min(size, len(queue)))]
                self.ready_count -= len(instances)
                self.submit(group, instances, self.make_task(group, instances, executor), executor)
                progressed = True
            if not queue:
                self.ready_groups.discard(index)
        return progressed

    def submit(
        self, group: GroupPlan, instances: list[Instance], task: Task, executor: TaskExecutor
    ) -> None:
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
        if executor.inline:
            started = time.perf_counter()
            try:
                rows = task.run()
            except Exception as exc:
                self.fail(exc, instances, task)
                raise
            self.item_seconds[group.index] = (time.perf_counter() - started) / len(instances)
            self.finish(group, instances, task, rows)
            return
        future = executor.submit_task(task)
        self.inflight[future.future] = (future, task, group, instances, executor)
        self.inflight_items += len(instances)

    def finish(
        self, group: GroupPlan, instances: list[Instance], task: Task, rows: list[tuple[Any, ...]]
    ) -> None:
        if self.return_hooks:
            for label, row in zip(task.labels or [TaskLabel(group.base_id)] * len(rows), rows):
                call_hooks(
                    self.return_hooks,
                    run_id=self.run_id,
                    nodes=list(_public_nodes(group)),
                    result=dict(zip(group.template.exports, row)),
                    success=True,
                    error=None,
                    purpose=group.template.purpose,
                    **label.hook_kwargs(),
                )
        if group.light:
            exports = group.collect_exports
            for item, row in zip(instances, rows):
                expansion = item.expansion
                collected = expansion.collected
                for pos, name in exports:
                    collected[name][item.index] = row[pos]
                done = expansion.done_counts[0] + 1
                expansion.done_counts[0] = done
                if done == expansion.count and expansion.exhausted:
                    self.fan_in(expansion, 0)
            return
        complete = self.complete
        for instance, row in zip(instances, rows):
            complete(instance, group, row)

    def fail(self, exc: BaseException, instances: list[Instance], task: Task) -> None:
        index = getattr(exc, "_cayley_item", None)
        if index is not None and index < len(instances):
            path = instances[index].item_path()
            if path:
                add_note(
                    exc, f"for {path} (task {instances[index].prefix()}{task.template.base_id})"
                )
        elif len(instances) > 1:
            paths = [instance.item_path() for instance in instances[:5]]
            more = f" and {len(instances) - 5} more" if len(instances) > 5 else ""
            add_note(exc, f"in a batch of {len(instances)} items: {'; '.join(paths)}{more}")
        if self.return_hooks:
            labels = task.labels or [TaskLabel(task.template.base_id)]
            label = labels[index] if index is not None and index < len(labels) else labels[0]
            call_hooks(
                self.return_hooks,
                run_id=self.run_id,
                nodes=list(task.template.public_nodes),
                result=None,
                success=False,
                error=exc,
                purpose=task.template.purpose,
                **label.hook_kwargs(),
            )

    def collect_finished(self) -> None:
        """Waits for at least one task in flight, then processes every finished one."""
        waitable = list(self.inflight)
        done, _ = concurrent.futures.wait(waitable, return_when=concurrent.futures.FIRST_COMPLETED)
        for raw in done:
            future, task, group, instances, _ = self.inflight.pop(raw)
            self.inflight_items -= len(instances)
            try:
                rows = future.get_result()
            except Exception as exc:
                self.fail(exc, instances, task)
                raise
            elapsed = future.elapsed if future.elapsed is not None else task.elapsed
            if elapsed:
                self.item_seconds[group.index] = elapsed / len(instances)
            self.finish(group, instances, task, rows)

    # ---- the loop -------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        self.start_instance(self.root)
        root = self.root
        backoff = 0.0005
        while root.pending:
            if self.ready_count and self.dispatch():
                backoff = 0.0005
                continue
            if self.ready_count + self.inflight_items < self.high_water and self.pull():
                continue
            if self.inflight:
                self.collect_finished()
                continue
            if self.ready_count:
                # An executor refuses work although none of ours is in flight (it may be busy
                # with another run): wait for it with a growing pause rather than spin.
                time.sleep(backoff)
                backoff = min(backoff * 2, 0.05)
                continue
            raise RuntimeError(
                "The run cannot make progress: no task is ready, running or waiting for items. "
                f"Pending templates: {[g.base_id for g in self.plan.root.groups if not root.done[g.local_index]]}"
            )
        env = root.env
        if self.remote_results:
            return {name: resolve_remote(env[source]) for name, source in self.plan.outputs.items()}
        return {name: env[source] for name, source in self.plan.outputs.items()}


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
    run = _Run(plan, constants, run_id, manager, adapters, label_tasks)
    if adapters.post_task_group:
        call_hooks(
            adapters.post_task_group, run_id=run_id, task_ids=[g.base_id for g in plan.groups]
        )
    manager.init()
    try:
        outputs = run.run()
    except BaseException:
        manager.cancel()
        raise
    manager.finalize()
    return outputs
