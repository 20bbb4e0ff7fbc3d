"""The async driver: concurrent coroutine nodes, results, hooks, errors and limits."""

from __future__ import annotations

import asyncio
import time
import types
from typing import Any

import pytest

from cayley import async_driver
from cayley.ad_hoc_utils import module_from_source
from cayley.async_driver import AsyncDriver, AsyncExecutionNotSupported
from cayley.lifecycle import GraphExecutionHook, NodeExecutionHook
from cayley.lifecycle.base import BasePostGraphConstruct, BasePreNodeExecute


def async_module() -> types.ModuleType:
    """Two independent 0.2 s coroutines, a sync node and an async join."""
    return module_from_source(
        """
        import asyncio

        async def slow_a(x: int) -> int:
            await asyncio.sleep(0.2)
            return x + 1

        async def slow_b(x: int) -> int:
            await asyncio.sleep(0.2)
            return x * 10

        def doubled(slow_a: int) -> int:
            return slow_a * 2

        async def total(doubled: int, slow_b: int, bonus: int = 5) -> int:
            await asyncio.sleep(0)
            return doubled + slow_b + bonus

        def failing(x: int) -> int:
            raise KeyError("boom")
        """
    )


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def _built(*adapters: Any) -> AsyncDriver:
    return (
        await async_driver.Builder().with_modules(async_module()).with_adapters(*adapters).build()
    )


def test_independent_async_nodes_overlap() -> None:
    async def go() -> tuple[dict[str, Any], float]:
        dr = await _built()
        started = time.perf_counter()
        result = await dr.execute(["slow_a", "slow_b"], inputs={"x": 1})
        return result, time.perf_counter() - started

    result, elapsed = run(go())
    assert result == {"slow_a": 2, "slow_b": 10}
    assert elapsed <= 0.35


def test_mixed_sync_and_async_values_and_optional_default() -> None:
    result = run(_run_built(["total", "doubled"], inputs={"x": 2}))
    assert result == {"total": 6 + 20 + 5, "doubled": 6}
    result = run(_run_built(["total"], inputs={"x": 2, "bonus": 100}))
    assert result == {"total": 6 + 20 + 100}


async def _run_built(final_vars: list[str], **kwargs: Any) -> Any:
    dr = await _built()
    return await dr.execute(final_vars, **kwargs)


def test_overrides_skip_upstream_and_inputs_can_be_requested() -> None:
    result = run(_run_built(["total", "x"], inputs={"x": 2}, overrides={"slow_a": 100}))
    assert result == {"total": 200 + 20 + 5, "x": 2}


def test_function_as_final_var_and_raw_execute() -> None:
    module = async_module()

    async def go() -> dict[str, Any]:
        dr = AsyncDriver({"x": 3}, module)
        return await dr.raw_execute([module.doubled])

    assert run(go()) == {"doubled": 8}


def test_constructor_defaults_to_dataframe_builder_to_dict() -> None:
    pd = pytest.importorskip("pandas")

    async def go() -> tuple[Any, Any]:
        frame = await AsyncDriver({}, async_module()).execute(["slow_a", "slow_b"], inputs={"x": 1})
        plain = await _run_built(["slow_a", "slow_b"], inputs={"x": 1})
        return frame, plain

    frame, plain = run(go())
    assert isinstance(frame, pd.DataFrame)
    assert frame.to_dict("records") == [{"slow_a": 2, "slow_b": 10}]
    assert plain == {"slow_a": 2, "slow_b": 10}


def test_explicit_result_builder_and_at_most_one() -> None:
    from cayley.base import DictResult

    dr = AsyncDriver({}, async_module(), result_builder=DictResult())
    assert run(dr.execute(["doubled"], inputs={"x": 0})) == {"doubled": 2}
    with pytest.raises(ValueError, match="at most one result builder"):
        AsyncDriver({}, async_module(), result_builder=DictResult(), adapters=[DictResult()])


class Recorder(NodeExecutionHook, GraphExecutionHook):
    """Records hook calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []

    def run_before_graph_execution(self, *, final_vars: list[str], **kwargs: Any) -> None:
        self.calls.append(("pre_graph", *final_vars))

    def run_after_graph_execution(self, *, success: bool, **kwargs: Any) -> None:
        self.calls.append(("post_graph", str(success)))

    def run_before_node_execution(self, *, node_name: str, **kwargs: Any) -> None:
        self.calls.append(("pre_node", node_name))

    def run_after_node_execution(
        self, *, node_name: str, success: bool, result: Any, **kwargs: Any
    ) -> None:
        self.calls.append(("post_node", node_name, str(success), repr(result)))


def test_sync_hooks_fire() -> None:
    recorder = Recorder()

    async def go() -> Any:
        dr = await _built(recorder)
        return await dr.execute(["doubled"], inputs={"x": 1})

    assert run(go()) == {"doubled": 4}
    assert recorder.calls == [
        ("pre_graph", "doubled"),
        ("pre_node", "slow_a"),
        ("post_node", "slow_a", "True", "2"),
        ("pre_node", "doubled"),
        ("post_node", "doubled", "True", "4"),
        ("post_graph", "True"),
    ]


def test_async_hooks_are_awaited() -> None:
    seen: list[str] = []

    class AsyncHooks(BasePostGraphConstruct, BasePreNodeExecute):
        async def post_graph_construct(self, *, graph: Any, modules: Any, config: dict) -> None:
            await asyncio.sleep(0)
            seen.append("constructed")

        async def pre_node_execute(self, *, node_: Any, **kwargs: Any) -> None:
            await asyncio.sleep(0)
            seen.append(node_.name)

    async def go() -> Any:
        dr = async_driver.Builder().with_modules(async_module()).with_adapters(AsyncHooks())
        built = dr.build_without_init()
        assert seen == []
        await built.ainit()
        await built.ainit()  # a second call does nothing
        return await built.execute(["doubled"], inputs={"x": 1})

    assert run(go()) == {"doubled": 4}
    assert seen == ["constructed", "slow_a", "doubled"]


def test_build_without_init_then_ainit() -> None:
    async def go() -> Any:
        dr = async_driver.Builder().with_modules(async_module()).build_without_init()
        assert isinstance(dr, AsyncDriver) and not dr.initialized
        assert await dr.ainit() is dr and dr.initialized
        return await dr.execute(["slow_b"], inputs={"x": 4})

    assert run(go()) == {"slow_b": 40}


def test_node_error_keeps_type_and_names_node() -> None:
    recorder = Recorder()

    async def go() -> Any:
        dr = await _built(recorder)
        return await dr.execute(["failing", "slow_a"], inputs={"x": 1})

    with pytest.raises(KeyError, match="boom") as info:
        run(go())
    assert any("'failing'" in note for note in info.value.__notes__)
    assert ("post_node", "failing", "False", "None") in recorder.calls
    assert recorder.calls[-1] == ("post_graph", "False")


def test_missing_input_is_reported_before_running() -> None:
    with pytest.raises(ValueError, match="Required input x"):
        run(_run_built(["slow_a"]))


def test_display_graph_rejected() -> None:
    with pytest.raises(ValueError, match="display_graph"):
        run(_run_built(["slow_a"], inputs={"x": 1}, display_graph=True))


@pytest.mark.parametrize(
    ("method", "args"),
    [("enable_dynamic_execution", ()), ("with_adapter", (object(),))],
)
def test_unsupported_builder_methods(method: str, args: tuple[Any, ...]) -> None:
    with pytest.raises(AsyncExecutionNotSupported, match="not supported by the async driver"):
        getattr(async_driver.Builder(), method)(*args)


def test_parallelizable_graph_rejected() -> None:
    module = module_from_source(
        """
        from cayley.htypes import Collect, Parallelizable

        def item(n: int) -> Parallelizable[int]:
            for i in range(n):
                yield i

        def squared(item: int) -> int:
            return item * item

        def summed(squared: Collect[int]) -> int:
            return sum(squared)

        def plain(n: int) -> int:
            return n + 1
        """
    )

    async def go(final_vars: list[str]) -> Any:
        dr = await async_driver.Builder().with_modules(module).build()
        return await dr.execute(final_vars, inputs={"n": 3})

    with pytest.raises(AsyncExecutionNotSupported, match="Parallelizable") as info:
        run(go(["summed"]))
    assert "not supported by the async driver" in str(info.value)
    assert run(go(["plain"])) == {"plain": 4}
