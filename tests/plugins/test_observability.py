"""Progress bars (tqdm, rich) and logging adapters, on plain and dynamic runs."""

from __future__ import annotations

import importlib
import io
import logging
import re
import sys
import threading
from typing import Any

import pytest

from cayley import ad_hoc_utils, driver
from cayley.execution import executors
from cayley.execution.grouping import GroupNodesIndividually

PLAIN = """
def a(n: int) -> int:
    return n + 1

def b(a: int) -> int:
    return a * 2

def a_rather_long_node_name(b: int) -> int:
    return b - 1
"""

FAILING = """
class Boom(RuntimeError):
    pass

def a(n: int) -> int:
    return n + 1

def bad(a: int) -> int:
    raise Boom(f"bad value {a}")
"""

FAN_OUT = """
import threading
from cayley.htypes import Collect, Parallelizable
from cayley.plugins.h_logging import get_logger

THREADS = set()

def items(n: int) -> Parallelizable[int]:
    yield from range(n)

def squared(items: int) -> int:
    THREADS.add(threading.current_thread().name)
    get_logger("user.code").info("squaring %d", items)
    if items == 13:
        raise KeyError("unlucky")
    return items * items

def total(squared: Collect[int]) -> int:
    return sum(squared)
"""

NESTED = """
from cayley.htypes import Collect, Parallelizable

def groups(n: int) -> Parallelizable[int]:
    yield from range(n)

def members(groups: int) -> Parallelizable[int]:
    yield from range(groups + 1)

def code(members: int, groups: int) -> int:
    return groups * 10 + members

def group_sum(code: Collect[int]) -> int:
    return sum(code)

def grand_total(group_sum: Collect[int]) -> int:
    return sum(group_sum)
"""

LOGGED = """
from cayley.plugins.h_logging import get_logger

def a(n: int) -> int:
    get_logger("user.code").info("inside a with %d", n)
    return n + 1
"""


def _module(source: str) -> Any:
    return ad_hoc_utils.module_from_source(source)


def _plain(flow: Any, *adapters: Any) -> driver.Driver:
    return driver.Builder().with_modules(flow).with_adapters(*adapters).build()


def _dynamic(
    flow: Any, *adapters: Any, executor: Any = None, individually: bool = False
) -> driver.Driver:
    builder = (
        driver.Builder()
        .with_modules(flow)
        .enable_dynamic_execution(allow_experimental_mode=True)
        .with_remote_executor(executor or executors.MultiThreadingExecutor(4))
        .with_adapters(*adapters)
    )
    if individually:
        builder = builder.with_grouping_strategy(GroupNodesIndividually())
    return builder.build()


def _missing_extra(monkeypatch: pytest.MonkeyPatch, library: str, plugin: str) -> None:
    """Importing ``plugin`` without ``library`` names the extra to install."""
    for name in [n for n in sys.modules if n == library or n.startswith(f"{library}.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, library, None)
    monkeypatch.delitem(sys.modules, plugin, raising=False)
    with pytest.raises(ImportError, match=re.escape(f'pip install "cayley[{library}]"')):
        importlib.import_module(plugin)


# ---- tqdm --------------------------------------------------------------------------------
def _tqdm_bar(**kwargs: Any) -> tuple[Any, io.StringIO]:
    pytest.importorskip("tqdm")
    from cayley.plugins import h_tqdm

    out = io.StringIO()
    return h_tqdm.ProgressBar(file=out, mininterval=0, **kwargs), out


def _last_frame(out: io.StringIO) -> str:
    return re.split(r"[\r\n]", out.getvalue().rstrip("\n"))[-1]


def test_tqdm_plain_run_counts_every_node_and_shows_it() -> None:
    bar, out = _tqdm_bar(desc="flow")
    flow = _module(PLAIN)
    result = _plain(flow, bar).execute(["a_rather_long_node_name"], inputs={"n": 2})
    assert result == {"a_rather_long_node_name": 5}
    text = out.getvalue()
    name_width = len("a_rather_long_node_name")
    for name in ("a", "b", "a_rather_long_node_name"):
        assert f"flow -> {name.ljust(name_width)}:" in text
    final = _last_frame(out)
    assert "flow -> Execution Complete!" in final
    assert "3/3" in final and "100%" in final and "funcs" in final
    assert bar.progress_bar.n == bar.progress_bar.total == 3


def test_tqdm_cuts_long_node_names_and_passes_tqdm_options() -> None:
    bar, out = _tqdm_bar(desc="flow", max_node_name_width=10, unit="nodes", ascii=True)
    _plain(_module(PLAIN), bar).execute(["a_rather_long_node_name"], inputs={"n": 2})
    text = out.getvalue()
    assert "flow -> a_rathe...:" in text
    assert "flow -> a         :" in text
    assert "nodes" in _last_frame(out)


def test_tqdm_default_description() -> None:
    bar, out = _tqdm_bar()
    _plain(_module(PLAIN), bar).execute(["b"], inputs={"n": 1})
    assert "Graph execution -> Execution Complete!" in _last_frame(out)


def test_tqdm_failed_run_says_so_and_does_not_count_the_failed_node() -> None:
    bar, out = _tqdm_bar(desc="flow")
    flow = _module(FAILING)
    with pytest.raises(flow.Boom):
        _plain(flow, bar).execute(["bad"], inputs={"n": 1})
    final = _last_frame(out)
    assert "flow -> Execution Failed!" in final
    assert "1/2" in final


def test_tqdm_rejected_inputs_do_not_crash_the_bar() -> None:
    bar, out = _tqdm_bar(desc="flow")
    with pytest.raises(ValueError, match="Type requirement mismatch"):
        _plain(_module(PLAIN), bar).execute(["b"], inputs={"n": "one"})
    assert "Execution Failed!" in _last_frame(out)


def test_tqdm_dynamic_run_grows_the_total_per_item() -> None:
    bar, out = _tqdm_bar(desc="fan")
    flow = _module(FAN_OUT)
    result = _dynamic(flow, bar).execute(["total"], inputs={"n": 10})
    assert result == {"total": sum(i * i for i in range(10))}
    # items, total, and squared once per item: 2 + 10 node runs.
    assert bar.progress_bar.n == bar.progress_bar.total == 12
    final = _last_frame(out)
    assert "12/12" in final and "fan -> Execution Complete!" in final
    assert any(name.startswith("cayley-task") for name in flow.THREADS)


def test_tqdm_dynamic_run_with_an_empty_fan_out_ends_full() -> None:
    bar, out = _tqdm_bar(desc="fan")
    result = _dynamic(_module(FAN_OUT), bar).execute(["total"], inputs={"n": 0})
    assert result == {"total": 0}
    assert "3/3" in _last_frame(out)


def test_tqdm_dynamic_failure_is_reported() -> None:
    bar, out = _tqdm_bar(desc="fan")
    with pytest.raises(KeyError, match="unlucky"):
        _dynamic(_module(FAN_OUT), bar).execute(["total"], inputs={"n": 20})
    assert "fan -> Execution Failed!" in _last_frame(out)
    assert bar.progress_bar.n < bar.progress_bar.total


def test_tqdm_with_process_workers() -> None:
    bar, out = _tqdm_bar(desc="fan")
    flow = _module(FAN_OUT)
    dr = _dynamic(flow, bar, executor=executors.MultiProcessingExecutor(2))
    assert dr.execute(["total"], inputs={"n": 6}) == {"total": 55}
    final = _last_frame(out)
    assert "fan -> Execution Complete!" in final and "100%" in final


def test_tqdm_missing_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    _missing_extra(monkeypatch, "tqdm", "cayley.plugins.h_tqdm")


# ---- rich --------------------------------------------------------------------------------
def _rich_bar(
    counts: bool = True, snapshot: bool = False, **kwargs: Any
) -> tuple[Any, io.StringIO]:
    """A rich bar drawing to a string; ``snapshot`` records the bars before the run's end."""
    pytest.importorskip("rich")
    from rich.console import Console
    from rich.progress import MofNCompleteColumn, TextColumn

    from cayley.plugins import h_rich

    class Snapshot(h_rich.RichProgressBar):
        snapshot: list[tuple[str, float, float | None]]

        def run_after_graph_execution(self, **hook_kwargs: Any) -> None:
            self.snapshot = [(t.description, t.completed, t.total) for t in self.progress.tasks]
            super().run_after_graph_execution(**hook_kwargs)

    out = io.StringIO()
    console = Console(file=out, force_terminal=False, width=100)
    columns = [TextColumn("{task.description}"), MofNCompleteColumn()] if counts else None
    cls = Snapshot if snapshot else h_rich.RichProgressBar
    return cls(columns=columns, console=console, **kwargs), out


def _lines(out: io.StringIO) -> list[str]:
    return [" ".join(line.split()) for line in out.getvalue().splitlines() if line.strip()]


def test_rich_plain_run_counts_nodes() -> None:
    bar, out = _rich_bar()
    result = _plain(_module(PLAIN), bar).execute(["b"], inputs={"n": 1})
    assert result == {"b": 4}
    assert _lines(out) == ["Running: 2/2"]
    assert not bar.progress.live.is_started


def test_rich_default_columns_and_descriptions() -> None:
    bar, out = _rich_bar(counts=False, run_desc="Flow:")
    _plain(_module(PLAIN), bar).execute(["b"], inputs={"n": 1})
    (line,) = _lines(out)
    assert line.startswith("Flow:") and "100%" in line


def test_rich_counts_nodes_as_they_finish() -> None:
    bar, _ = _rich_bar(snapshot=True)
    flow = _module(FAILING)
    with pytest.raises(flow.Boom):
        _plain(flow, bar).execute(["bad"], inputs={"n": 1})
    assert bar.snapshot == [("Running:", 1, 2)]
    assert not bar.progress.live.is_started


def test_rich_runs_one_after_the_other_show_their_own_bars() -> None:
    bar, out = _rich_bar()
    dr = _plain(_module(PLAIN), bar)
    dr.execute(["b"], inputs={"n": 1})
    dr.execute(["a_rather_long_node_name"], inputs={"n": 1})
    assert _lines(out) == ["Running: 2/2", "Running: 3/3"]
    assert len(bar.progress.tasks) == 1


def test_rich_dynamic_run_has_a_bar_per_fan_out() -> None:
    bar, out = _rich_bar(snapshot=True, collect_desc="Squaring")
    flow = _module(FAN_OUT)
    result = _dynamic(flow, bar).execute(["total"], inputs={"n": 12})
    assert result == {"total": sum(i * i for i in range(12))}
    assert bar.snapshot == [("Running:", 3, 3), ("Squaring items", 12, 12)]
    assert _lines(out) == ["Running: 3/3", "Squaring items 12/12"]
    assert any(name.startswith("cayley-task") for name in flow.THREADS)


@pytest.mark.parametrize("individually", [False, True])
def test_rich_nested_fan_outs(individually: bool) -> None:
    bar, out = _rich_bar(snapshot=True)
    dr = _dynamic(_module(NESTED), bar, individually=individually)
    expected = sum(10 * g + m for g in range(4) for m in range(g + 1))
    assert dr.execute(["grand_total"], inputs={"n": 4}) == {"grand_total": expected}
    assert bar.snapshot == [
        ("Running:", 5, 5),
        ("Collecting: groups", 4, 4),
        ("Collecting: members", 10, 10),
    ]
    assert _lines(out) == [
        "Running: 5/5",
        "Collecting: groups 4/4",
        "Collecting: members 10/10",
    ]


def test_rich_dynamic_failure_stops_the_display() -> None:
    bar, out = _rich_bar()
    with pytest.raises(KeyError, match="unlucky"):
        _dynamic(_module(FAN_OUT), bar).execute(["total"], inputs={"n": 20})
    assert not bar.progress.live.is_started
    lines = _lines(out)
    assert lines[0] == "Running: 1/3"
    # The run stops at the failing item, possibly before the generator is exhausted.
    assert re.fullmatch(r"Collecting: items \d+/(20|\?)", lines[1])


def test_rich_empty_fan_out() -> None:
    bar, out = _rich_bar()
    assert _dynamic(_module(FAN_OUT), bar).execute(["total"], inputs={"n": 0}) == {"total": 0}
    assert _lines(out)[0] == "Running: 3/3"


def test_rich_with_process_workers() -> None:
    bar, out = _rich_bar()
    dr = _dynamic(_module(FAN_OUT), bar, executor=executors.MultiProcessingExecutor(2))
    assert dr.execute(["total"], inputs={"n": 6}) == {"total": 55}
    assert _lines(out) == ["Running: 3/3", "Collecting: items 6/6"]


def test_rich_hooks_from_many_threads_at_once() -> None:
    bar, out = _rich_bar()
    dr = _dynamic(
        _module(FAN_OUT), bar, executor=executors.MultiThreadingExecutor(8), individually=True
    )
    assert dr.execute(["total"], inputs={"n": 13}) == {"total": sum(i * i for i in range(13))}
    assert _lines(out) == ["Running: 3/3", "Collecting: items 13/13"]


def test_rich_missing_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    _missing_extra(monkeypatch, "rich", "cayley.plugins.h_rich")


# ---- logging -----------------------------------------------------------------------------
LOGGER = "cayley.plugins.h_logging"
RUN_PREFIX = r"Graph run '[0-9a-f-]{36}' - "


def _records(caplog: pytest.LogCaptureFixture, name: str = LOGGER) -> list[tuple[int, str]]:
    return [(r.levelno, r.getMessage()) for r in caplog.records if r.name == name]


def _adapter(*args: Any) -> Any:
    from cayley.plugins import h_logging

    return h_logging.LoggingAdapter(*args)


def test_logging_plain_run(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    flow = _module(PLAIN)
    assert _plain(flow, _adapter()).execute(["b"], inputs={"n": 1}) == {"b": 4}
    records = [r for r in caplog.records if r.name == LOGGER]
    levels = [r.levelno for r in records]
    messages = [r.getMessage() for r in records]
    assert re.fullmatch(RUN_PREFIX + "Starting graph execution", messages[0])
    assert re.fullmatch(RUN_PREFIX + "Using inputs 'n'", messages[1])
    assert messages[2:6] == [
        "Node 'a' - Starting execution with dependencies 'n'",
        "Node 'a' - Finished execution [OK]",
        "Node 'b' - Starting execution with dependencies 'a'",
        "Node 'b' - Finished execution [OK]",
    ]
    assert re.fullmatch(RUN_PREFIX + "Finished graph execution \\[OK\\]", messages[6])
    assert len(records) == 7
    assert levels == [
        logging.INFO,
        logging.INFO,
        logging.DEBUG,
        logging.INFO,
        logging.DEBUG,
        logging.INFO,
        logging.INFO,
    ]
    # the details live in structured fields
    start, node_done, run_done = records[0], records[3], records[6]
    assert (start.final_vars, start.node_count, start.inputs) == (["b"], 2, ["n"])
    assert node_done.node_name == "a" and node_done.duration >= 0
    assert run_done.run_id == start.run_id and run_done.duration >= node_done.duration
    assert not any("Task '" in message for message in messages)


def test_logging_overrides_and_custom_logger(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    flow = _module(PLAIN)
    by_name = _plain(flow, _adapter("my.flow"))
    by_name.execute(["b"], inputs={"n": 1}, overrides={"a": 10})
    records = [r for r in caplog.records if r.name == "my.flow"]
    assert any(re.fullmatch(RUN_PREFIX + "Using overrides 'a'", r.getMessage()) for r in records)
    assert records[0].node_count == 1 and records[0].overrides == ["a"]
    assert not _records(caplog)
    caplog.clear()
    _plain(flow, _adapter(logging.getLogger("other.flow"))).execute(["b"], inputs={"n": 1})
    assert len(_records(caplog, "other.flow")) == 5


def test_logging_node_failure_logs_the_traceback_once(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    flow = _module(FAILING)
    with pytest.raises(flow.Boom):
        _plain(flow, _adapter()).execute(["bad"], inputs={"n": 1})
    errors = [r for r in caplog.records if r.name == LOGGER and r.levelno == logging.ERROR]
    assert len(errors) == 2
    assert errors[0].getMessage() == "Node 'bad' - Encountered error"
    assert errors[0].error == "Boom: bad value 2" and errors[0].duration >= 0
    assert errors[0].exc_info is not None and errors[0].exc_info[0] is flow.Boom
    assert re.fullmatch(RUN_PREFIX + "Graph execution failed due to errors", errors[1].getMessage())
    assert errors[1].error == "Boom: bad value 2"
    assert not errors[1].exc_info


def test_logging_rejected_inputs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    with pytest.raises(ValueError):
        _plain(_module(PLAIN), _adapter()).execute(["b"], inputs={"n": "one"})
    (error,) = [r for r in caplog.records if r.name == LOGGER and r.levelno == logging.ERROR]
    assert error.getMessage().endswith("Graph execution failed due to errors")
    assert "Type requirement mismatch" in error.error
    assert error.exc_info is not None  # no node saw it, so the run reports the traceback


def test_logging_dynamic_run_logs_tasks(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    flow = _module(FAN_OUT)
    assert _dynamic(flow, _adapter()).execute(["total"], inputs={"n": 4}) == {"total": 14}
    records = [r for r in caplog.records if r.name == LOGGER]
    info = [r.getMessage() for r in records if r.levelno == logging.INFO]
    debug = [r.getMessage() for r in records if r.levelno == logging.DEBUG]
    assert re.fullmatch(RUN_PREFIX + "Dynamic DAG detected; task-based logging is enabled", info[2])
    (grouping,) = [r for r in records if "task-based logging" in r.getMessage()]
    assert grouping.task_ids == ["root", "block-items", "root-1"]
    for i in range(4):
        task = f"expand-items.{i}.block-items"
        assert f"Task '{task}' - Task completed [OK]" in info
        assert f"Task '{task}' - Spawning task and submitting to executor" in debug
        assert f"Task '{task}' - Starting execution of nodes 'squared'" in debug
        assert f"Task '{task}' - Starting execution with dependencies 'items'" in debug
        assert f"Task '{task}' - Node 'squared' - Finished execution [OK]" in debug
        assert f"Task '{task}' - Finished execution [OK]" in debug
    assert "Task 'root' - Initializing new task and submitting to executor" in debug
    assert not any("Node '" in m for m in info), "node events are DEBUG in task-based runs"
    assert re.fullmatch(RUN_PREFIX + "Finished graph execution \\[OK\\]", info[-1])
    user = [r.getMessage() for r in caplog.records if r.name == "user.code"]
    assert sorted(user) == [f"Task 'expand-items.{i}.block-items' - squaring {i}" for i in range(4)]


def test_logging_dynamic_failure(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(KeyError, match="unlucky"):
        _dynamic(_module(FAN_OUT), _adapter()).execute(["total"], inputs={"n": 20})
    errors = [r for r in caplog.records if r.name == LOGGER and r.levelno == logging.ERROR]
    task = "expand-items.13.block-items"
    messages = [r.getMessage() for r in errors]
    assert messages[0] == f"Task '{task}' - Node 'squared' - Encountered error"
    assert messages[1] == f"Task '{task}' - Execution failed due to errors"
    assert re.fullmatch(RUN_PREFIX + "Graph execution failed due to errors", messages[-1])
    assert {r.error for r in errors} == {"KeyError: 'unlucky'"}
    assert [bool(r.exc_info) for r in errors].count(True) == 1


def test_logging_with_process_workers(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    dr = _dynamic(_module(FAN_OUT), _adapter(), executor=executors.MultiProcessingExecutor(2))
    assert dr.execute(["total"], inputs={"n": 3}) == {"total": 5}
    info = [m for level, m in _records(caplog) if level == logging.INFO]
    for i in range(3):
        assert f"Task 'expand-items.{i}.block-items' - Task completed [OK]" in info


def test_get_logger_prefixes_node_messages(caplog: pytest.LogCaptureFixture) -> None:
    from cayley.plugins import h_logging

    caplog.set_level(logging.INFO)
    _plain(_module(LOGGED), _adapter()).execute(["a"], inputs={"n": 1})
    user = [r.getMessage() for r in caplog.records if r.name == "user.code"]
    assert user == ["Node 'a' - inside a with 1"]
    caplog.clear()
    h_logging.get_logger("user.code").info("outside", extra={"skip_context": True})
    assert [r.getMessage() for r in caplog.records] == ["outside"]


def test_logging_concurrent_runs_on_one_adapter(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    dr = _plain(_module(PLAIN), _adapter())
    errors: list[BaseException] = []

    def run() -> None:
        try:
            for _ in range(20):
                assert dr.execute(["b"], inputs={"n": 1}) == {"b": 4}
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    finished = [m for _, m in _records(caplog) if "Finished graph execution [OK]" in m]
    assert len(finished) == 80
