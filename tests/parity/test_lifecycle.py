"""Lifecycle base classes Hamilton users subclass: names, async variants, narrow signatures."""

import asyncio
from typing import Any

import pytest

from tests.parity.conftest import Library

ASYNC_BASES = [
    "BasePostGraphConstructAsync",
    "BasePreGraphExecuteAsync",
    "BasePreNodeExecuteAsync",
    "BasePostNodeExecuteAsync",
    "BasePostGraphExecuteAsync",
    "BasePreTaskExecuteAsync",
    "BasePostTaskExecuteAsync",
    "BaseDoNodeExecuteAsync",
]


def _module(lib: Library, *fns: Any) -> Any:
    return lib.ad_hoc_utils.create_temporary_module(*fns)


def _chain(lib: Library) -> Any:
    async def doubled(x: int) -> int:
        await asyncio.sleep(0)
        return x * 2

    def plus_one(doubled: int) -> int:
        return doubled + 1

    return _module(lib, doubled, plus_one)


@pytest.mark.parametrize("name", ASYNC_BASES)
def test_async_bases_declare_an_async_method(lib: Library, name: str) -> None:
    cls = getattr(lib.module("lifecycle.base"), name)
    (method,) = cls.__abstractmethods__
    assert asyncio.iscoroutinefunction(getattr(cls, method))


def test_async_hooks_are_awaited_by_the_async_driver(lib: Library) -> None:
    base = lib.module("lifecycle.base")
    calls: list[tuple[str, ...]] = []

    class Recorder(
        base.BasePostGraphConstructAsync,
        base.BasePreGraphExecuteAsync,
        base.BasePreNodeExecuteAsync,
        base.BasePostNodeExecuteAsync,
        base.BasePostGraphExecuteAsync,
    ):
        async def post_graph_construct(self, *, graph, modules, config):
            calls.append(("post_graph_construct",))

        async def pre_graph_execute(self, *, run_id, graph, final_vars, inputs, overrides):
            calls.append(("pre_graph_execute", *final_vars))

        async def pre_node_execute(self, *, run_id, node_, kwargs, task_id=None):
            calls.append(("pre_node_execute", node_.name, *sorted(kwargs.items())))

        async def post_node_execute(
            self, *, run_id, node_, kwargs, success, error, result, task_id=None
        ):
            calls.append(("post_node_execute", node_.name, success, result))

        async def post_graph_execute(self, *, run_id, graph, success, error, results):
            calls.append(("post_graph_execute", success))

    async def go() -> dict:
        builder = lib.async_driver.Builder().with_modules(_chain(lib)).with_adapters(Recorder())
        dr = await builder.build()
        return await dr.execute(["plus_one"], inputs={"x": 20})

    assert asyncio.run(go()) == {"plus_one": 41}
    assert calls[0] == ("post_graph_construct",)
    assert calls[1] == ("pre_graph_execute", "plus_one")
    assert calls[-1] == ("post_graph_execute", True)
    assert sorted(calls[2:-1], key=str) == sorted(
        [
            ("pre_node_execute", "doubled", ("x", 20)),
            ("post_node_execute", "doubled", True, 40),
            ("pre_node_execute", "plus_one", ("doubled", 40)),
            ("post_node_execute", "plus_one", True, 41),
        ],
        key=str,
    )


def test_adapter_ainit_is_awaited_once(lib: Library) -> None:
    base = lib.module("lifecycle.base")

    class Connects(base.BasePreGraphExecuteAsync):
        def __init__(self) -> None:
            self.connected = 0

        async def ainit(self) -> None:
            await asyncio.sleep(0)
            self.connected += 1

        async def pre_graph_execute(self, **kwargs: Any) -> None:
            assert self.connected == 1

    adapter = Connects()

    async def go() -> dict:
        builder = lib.async_driver.Builder().with_modules(_chain(lib)).with_adapters(adapter)
        dr = builder.build_without_init()
        assert adapter.connected == 0
        await dr.ainit()
        await dr.ainit()
        return await dr.execute(["doubled"], inputs={"x": 1})

    assert asyncio.run(go()) == {"doubled": 2}
    assert adapter.connected == 1


def test_async_graph_adapter_runs_a_node_with_its_async_hooks(lib: Library) -> None:
    base = lib.module("lifecycle.base")
    seen: list[str] = []

    class Hook(base.BasePreNodeExecuteAsync, base.BasePostNodeExecuteAsync):
        async def pre_node_execute(self, *, run_id, node_, kwargs, task_id=None):
            seen.append(f"pre {node_.name} {kwargs}")

        async def post_node_execute(
            self, *, run_id, node_, kwargs, success, error, result, task_id=None
        ):
            seen.append(f"post {node_.name} {result}")

    async def add(a: int, b: int) -> int:
        return a + b

    async def upstream() -> int:
        return 5

    adapter = lib.async_driver.AsyncGraphAdapter(
        lib.base.DictResult(), async_lifecycle_adapters=base.LifecycleAdapterSet(Hook())
    )
    node = lib.node.Node.from_fn(add)

    async def go() -> int:
        task = adapter.do_node_execute(
            run_id="r", node_=node, kwargs={"a": upstream(), "b": 2}, task_id=None
        )
        return await task

    assert asyncio.run(go()) == 7
    assert seen == ["pre add {'a': 5, 'b': 2}", "post add 7"]
    assert adapter.build_result(add=7) == {"add": 7}


def test_helpers_await_values_and_dicts(lib: Library) -> None:
    ad = lib.async_driver

    async def later(value: int) -> int:
        await asyncio.sleep(0)
        return value

    async def go() -> tuple:
        plain = await ad.process_value(3)
        awaited = await ad.process_value(later(4))
        gathered = await ad.await_dict_of_tasks(
            {"a": later(1), "b": asyncio.ensure_future(later(2))}
        )
        return plain, awaited, gathered

    assert asyncio.run(go()) == (3, 4, {"a": 1, "b": 2})


def _sync_chain(lib: Library) -> Any:
    def a(x: int) -> int:
        return x + 1

    def b(a: int) -> int:
        return a * 3

    return _module(lib, a, b)


def test_hooks_written_to_the_narrow_contract_still_run(lib: Library) -> None:
    """Hooks naming only Hamilton's keyword arguments (no ``**kwargs``) are called."""
    base = lib.module("lifecycle.base")
    calls: list[str] = []

    class Narrow(
        base.BasePreDoAnythingHook,
        base.BasePreGraphExecute,
        base.BasePostGraphExecute,
        base.BasePreNodeExecute,
    ):
        def pre_do_anything(self):
            calls.append("pre_do_anything")

        def pre_graph_execute(self, run_id, graph, final_vars, inputs, overrides):
            calls.append(f"pre_graph {final_vars}")

        def pre_node_execute(self, run_id, node_, kwargs, task_id=None):
            calls.append(f"pre_node {node_.name}")

        def post_graph_execute(self, run_id, graph, success, error, results):
            calls.append(f"post_graph {results}")

    dr = lib.driver.Builder().with_modules(_sync_chain(lib)).with_adapters(Narrow()).build()
    assert dr.execute(["b"], inputs={"x": 1}) == {"b": 6}
    assert calls == [
        "pre_do_anything",
        "pre_graph ['b']",
        "pre_node a",
        "pre_node b",
        "post_graph {'b': 6}",
    ]


def test_narrow_task_hooks_run_under_dynamic_execution(lib: Library) -> None:
    base = lib.module("lifecycle.base")
    htypes = lib.htypes
    finished: list[bool] = []

    class NarrowTask(base.BasePostTaskExecute):
        def post_task_execute(
            self, run_id, task_id, nodes, results, success, error, spawning_task_id, purpose
        ):
            finished.append(success)

    def items(n: int) -> htypes.Parallelizable[int]:
        yield from range(n)

    def squared(items: int) -> int:
        return items * items

    def total(squared: htypes.Collect[int]) -> int:
        return sum(squared)

    dr = (
        lib.driver.Builder()
        .with_modules(_module(lib, items, squared, total))
        .with_adapters(NarrowTask())
        .enable_dynamic_execution(allow_experimental_mode=True)
        .with_remote_executor(lib.module("execution.executors").SynchronousLocalTaskExecutor())
        .build()
    )
    assert dr.execute(["total"], inputs={"n": 3}) == {"total": 5}
    assert finished and all(finished)


def test_cayley_sync_driver_leaves_async_hooks_alone() -> None:
    from cayley import ad_hoc_utils, driver
    from cayley.lifecycle.base import BasePreNodeExecuteAsync

    class Never(BasePreNodeExecuteAsync):
        async def pre_node_execute(self, **kwargs: Any) -> None:
            raise AssertionError("the synchronous driver must not call async hooks")

    def a(x: int) -> int:
        return x

    dr = (
        driver.Builder()
        .with_modules(ad_hoc_utils.create_temporary_module(a))
        .with_adapters(Never())
    )
    assert dr.build().execute(["a"], inputs={"x": 3}) == {"a": 3}


def test_cayley_adapter_set_reports_sync_and_async_hooks() -> None:
    from cayley.lifecycle.base import (
        BasePostNodeExecuteAsync,
        BasePreNodeExecute,
        LifecycleAdapterSet,
    )

    class Mixed(BasePreNodeExecute, BasePostNodeExecuteAsync):
        def pre_node_execute(self, **kwargs: Any) -> None:
            pass

        async def post_node_execute(self, **kwargs: Any) -> None:
            pass

    adapters = LifecycleAdapterSet(Mixed())
    assert adapters.does_hook("pre_node_execute", is_async=False)
    assert not adapters.does_hook("pre_node_execute", is_async=True)
    assert adapters.does_hook("post_node_execute", is_async=True)
    assert not adapters.does_hook("post_node_execute", is_async=False)
    assert adapters.does_hook("post_node_execute")
    with pytest.raises(ValueError, match="not a lifecycle hook"):
        adapters.does_hook("no_such_hook")
