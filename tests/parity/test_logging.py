"""The logging adapters write Hamilton's messages, at Hamilton's levels."""

import asyncio
import logging
import re
from typing import Any

import pytest

from tests.parity.conftest import Library

PREFIX = re.compile(r"^(Graph run '[^']*' - )?(Task '[^']*' - )?(Node '[^']*' - )?")


def _messages(caplog: pytest.LogCaptureFixture, name: str) -> list[tuple[str, str]]:
    """(level, message) pairs of one logger, the run id masked."""
    return [
        (r.levelname, re.sub(r"Graph run '[0-9a-f-]{36}'", "Graph run 'RUN'", r.getMessage()))
        for r in caplog.records
        if r.name == name
    ]


def _serial(lib: Library, logger_name: str) -> Any:
    get_logger = lib.module("plugins.h_logging").get_logger

    def a(x: int) -> int:
        return x + 1

    def b(a: int, y: int = 2) -> int:
        get_logger(logger_name).warning("inside b")
        return a * y

    def c(b: int) -> int:
        return b - 1

    return lib.ad_hoc_utils.create_temporary_module(a, b, c)


@pytest.mark.parametrize("level", [logging.INFO, logging.DEBUG])
def test_serial_run_messages(lib: Library, level: int, caplog: pytest.LogCaptureFixture) -> None:
    name = f"parity.serial.{lib}.{level}"
    caplog.set_level(level, logger=name)
    h_logging = lib.module("plugins.h_logging")
    dr = (
        lib.driver.Builder()
        .with_modules(_serial(lib, name))
        .with_adapters(h_logging.LoggingAdapter(name))
        .build()
    )
    assert dr.execute(["c"], inputs={"x": 1}, overrides={"a": 5}) == {"c": 9}
    expected = [
        ("INFO", "Graph run 'RUN' - Starting graph execution"),
        ("INFO", "Graph run 'RUN' - Using inputs 'x'"),
        ("INFO", "Graph run 'RUN' - Using overrides 'a'"),
        ("DEBUG", "Node 'b' - Starting execution with dependencies 'a'"),
        ("WARNING", "Node 'b' - inside b"),
        ("INFO", "Node 'b' - Finished execution [OK]"),
        ("DEBUG", "Node 'c' - Starting execution with dependencies 'b'"),
        ("INFO", "Node 'c' - Finished execution [OK]"),
        ("INFO", "Graph run 'RUN' - Finished graph execution [OK]"),
    ]
    expected = [m for m in expected if logging.getLevelName(m[0]) >= level]
    assert _messages(caplog, name) == expected


def test_failure_messages(lib: Library, caplog: pytest.LogCaptureFixture) -> None:
    name = f"parity.failure.{lib}"
    caplog.set_level(logging.INFO, logger=name)

    def a(x: int) -> int:
        raise KeyError("broken")

    module = lib.ad_hoc_utils.create_temporary_module(a)
    adapter = lib.module("plugins.h_logging").LoggingAdapter(name)
    dr = lib.driver.Builder().with_modules(module).with_adapters(adapter).build()
    with pytest.raises(KeyError):
        dr.execute(["a"], inputs={"x": 1})
    assert _messages(caplog, name) == [
        ("INFO", "Graph run 'RUN' - Starting graph execution"),
        ("INFO", "Graph run 'RUN' - Using inputs 'x'"),
        ("ERROR", "Node 'a' - Encountered error"),
        ("ERROR", "Graph run 'RUN' - Graph execution failed due to errors"),
    ]
    node_error = next(r for r in caplog.records if r.name == name and "Encountered" in r.msg)
    assert node_error.exc_info is not None and node_error.exc_info[0] is KeyError


def test_thread_pool_nodes_log_with_their_node_prefix(
    lib: Library, caplog: pytest.LogCaptureFixture
) -> None:
    name = f"parity.threads.{lib}"
    caplog.set_level(logging.INFO, logger=name)
    h_logging = lib.module("plugins.h_logging")
    future_adapter = lib.module("plugins.h_threadpool").FutureAdapter
    dr = (
        lib.driver.Builder()
        .with_modules(_serial(lib, name))
        .with_adapters(h_logging.LoggingAdapter(name), future_adapter())
        .build()
    )
    assert dr.execute(["c"], inputs={"x": 1}) == {"c": 3}
    assert ("WARNING", "Node 'b' - inside b") in _messages(caplog, name)


def test_async_adapter_messages(lib: Library, caplog: pytest.LogCaptureFixture) -> None:
    name = f"parity.async.{lib}"
    caplog.set_level(logging.DEBUG, logger=name)
    h_logging = lib.module("plugins.h_logging")

    async def a() -> int:
        await asyncio.sleep(0)
        return 1

    async def b(a: int) -> int:
        h_logging.get_logger(name).warning("inside b")
        return a + 1

    module = lib.ad_hoc_utils.create_temporary_module(a, b)

    async def go() -> dict:
        builder = lib.async_driver.Builder().with_modules(module)
        dr = await builder.with_adapters(h_logging.AsyncLoggingAdapter(name)).build()
        return await dr.execute(["b"])

    assert asyncio.run(go()) == {"b": 2}
    messages = _messages(caplog, name)
    assert messages[0] == ("INFO", "Graph run 'RUN' - Starting graph execution")
    assert messages[-1] == ("INFO", "Graph run 'RUN' - Finished graph execution [OK]")
    assert sorted(messages[1:-1]) == sorted(
        [
            ("DEBUG", "Node 'a' - Submitting async node without dependencies"),
            ("INFO", "Node 'a' - Finished execution [OK]"),
            ("DEBUG", "Node 'b' - Submitting async node with dependencies 'a'"),
            ("WARNING", "Node 'b' - inside b"),
            ("INFO", "Node 'b' - Finished execution [OK]"),
        ]
    )


def _vocabulary(messages: list[tuple[str, str]]) -> set[tuple[str, str]]:
    """(level, message without its place prefix and with names masked)."""
    out = set()
    for level, message in messages:
        text = PREFIX.sub("", message)
        out.add((level, re.sub(r"'[^']*'(, '[^']*')*", "NAMES", text)))
    return out


def test_task_based_messages_use_hamiltons_vocabulary(caplog: pytest.LogCaptureFixture) -> None:
    """The words of a dynamic run match Hamilton's; task ids follow each engine's grouping."""
    from tests.parity.conftest import Library

    vocabularies = []
    for lib in (Library("hamilton"), Library("cayley")):
        name = f"parity.tasks.{lib}"
        caplog.set_level(logging.DEBUG, logger=name)
        htypes = lib.htypes

        def items(n: int) -> htypes.Parallelizable[int]:
            yield from range(n)

        def squared(items: int) -> int:
            return items * items

        def total(squared: htypes.Collect[int]) -> int:
            return sum(squared)

        dr = (
            lib.driver.Builder()
            .with_modules(lib.ad_hoc_utils.create_temporary_module(items, squared, total))
            .with_adapters(lib.module("plugins.h_logging").LoggingAdapter(name))
            .enable_dynamic_execution(allow_experimental_mode=True)
            .with_remote_executor(lib.module("execution.executors").SynchronousLocalTaskExecutor())
            .build()
        )
        assert dr.execute(["total"], inputs={"n": 3}) == {"total": 5}
        vocabularies.append(_vocabulary(_messages(caplog, name)))
    hamilton, cayley = vocabularies
    assert cayley <= hamilton, cayley - hamilton
    assert ("INFO", "Dynamic DAG detected; task-based logging is enabled") in cayley
    assert ("INFO", "Task completed [OK]") in cayley
