"""The built-in lifecycle adapters of ``cayley.lifecycle.default``, run through real drivers."""

from __future__ import annotations

import logging
import re
import types
from typing import Any

import pytest

from cayley import ad_hoc_utils, driver, lifecycle
from cayley.execution import executors
from cayley.lifecycle import NodeExecutionHook, default

CHAIN = """
def a() -> int:
    return 1

def b(a: int) -> int:
    return a + 1

def c(b: int, a: int) -> int:
    return b * 10 + a
"""

FAN_OUT = """
from cayley.htypes import Collect, Parallelizable

def item(n: int) -> Parallelizable[int]:
    for i in range(n):
        yield i

def squared(item: int) -> int:
    return item * item

def squares(squared: Collect[int]) -> list[int]:
    return sorted(squared)
"""

GRACEFUL = """
from cayley.htypes import Collect, Parallelizable
from cayley.lifecycle import accept_error_sentinels

class Boom(Exception):
    pass

class Other(Exception):
    pass

def ok() -> int:
    return 1

def failing() -> int:
    raise Boom("failing failed")

def downstream(failing: int, ok: int) -> int:
    return failing + ok

def further(downstream: int) -> int:
    return downstream * 2

@accept_error_sentinels
def report(failing: int, ok: int) -> str:
    return f"failing={failing!r} ok={ok}"

def other_error() -> int:
    raise Other("not caught")

def start() -> Parallelizable[int]:
    for i in range(4):
        yield i

def inner(start: int) -> int:
    if start == 2:
        raise Boom("item 2")
    return start

def gather(inner: Collect[int]) -> list:
    return inner

def gen_fail() -> Parallelizable[int]:
    for i in range(5):
        if i == 3:
            raise Boom("item 3")
        yield i

def inner2(gen_fail: int) -> int:
    return gen_fail

def gather2(inner2: Collect[int]) -> list:
    return inner2

def call_fail() -> Parallelizable[int]:
    raise Boom("before any item")

def inner3(call_fail: int) -> int:
    return call_fail

def gather3(inner3: Collect[int]) -> list:
    return inner3
"""


def make_module(source: str) -> types.ModuleType:
    """A fresh module from ``source``."""
    return ad_hoc_utils.module_from_source(source)


def build(module: types.ModuleType, *adapters: Any, dynamic: bool = False) -> driver.Driver:
    """A driver over ``module`` with ``adapters``; dynamic ones run items on two threads."""
    builder = driver.Builder().with_modules(module).with_adapters(*adapters)
    if dynamic:
        builder = builder.enable_dynamic_execution(allow_experimental_mode=True)
        builder = builder.with_remote_executor(executors.MultiThreadingExecutor(2))
    return builder.build()


@pytest.fixture(scope="module")
def chain() -> types.ModuleType:
    """a -> b -> c (c also reads a)."""
    return make_module(CHAIN)


@pytest.fixture(scope="module")
def fan_out() -> types.ModuleType:
    """item (Parallelizable) -> squared -> squares (Collect)."""
    return make_module(FAN_OUT)


@pytest.fixture(scope="module")
def graceful() -> types.ModuleType:
    """Nodes failing in the ways GracefulErrorAdapter handles."""
    return make_module(GRACEFUL)


# ---- exports and node filters ----------------------------------------------------------------
def test_exported_from_lifecycle() -> None:
    for name in (
        "PrintLn",
        "PrintLnHook",
        "PDBDebugger",
        "SlowDownYouMoveTooFast",
        "FunctionInputOutputTypeChecker",
        "GracefulErrorAdapter",
        "NoEdgeAndInputTypeChecking",
        "accept_error_sentinels",
    ):
        assert getattr(lifecycle, name) is getattr(default, name)
        assert name in lifecycle.__all__
    assert lifecycle.PrintLnHook is lifecycle.PrintLn


@pytest.mark.parametrize(
    ("node_filter", "expected"),
    [
        (None, {"a", "b", "c"}),
        ("b", {"b"}),
        (["a", "c"], {"a", "c"}),
        (lambda name, tags: name != "a" and "module" in tags, {"b", "c"}),
    ],
    ids=["none", "str", "list", "callable"],
)
def test_should_run_node(node_filter: Any, expected: set[str]) -> None:
    tags = {"module": "m"}
    assert {n for n in "abc" if default.should_run_node(n, tags, node_filter)} == expected


def test_invalid_node_filter_rejected() -> None:
    with pytest.raises(ValueError, match="Invalid node filter"):
        default.PrintLn(node_filter=3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="Invalid node filter"):
        default.PDBDebugger(node_filter=("a",), before=True)  # type: ignore[arg-type]


# ---- PrintLn --------------------------------------------------------------------------------
FINISHED = re.compile(r"^Finished debugging node: (\S+) in [\d.e+-]+(μs|ms|s)\. Status: (\w+)\.")


def test_println_verbosity_one(chain: types.ModuleType) -> None:
    lines: list[str] = []
    hook = default.PrintLn(print_fn=lines.append)
    assert build(chain, hook).execute(["c"]) == {"c": 21}
    assert [line for line in lines if line.startswith("Executing")] == [
        "Executing node: a.",
        "Executing node: b.",
        "Executing node: c.",
    ]
    finished = [FINISHED.match(line) for line in lines if line.startswith("Finished")]
    assert [(m.group(1), m.group(3)) for m in finished if m] == [
        ("a", "Success"),
        ("b", "Success"),
        ("c", "Success"),
    ]
    assert len(lines) == 6
    assert hook.timer_dict == {}


def test_println_verbosity_two_shows_inputs_and_results(chain: types.ModuleType) -> None:
    lines: list[str] = []
    build(chain, default.PrintLn(verbosity=2, print_fn=lines.append)).execute(["b"])
    assert lines[2] == "Executing node: b. Inputs: \n{'a': 1}"
    assert lines[3].startswith("Finished debugging node: b in ")
    assert lines[3].endswith("Status: Success. Result: \n2\n")


def test_println_reports_failures() -> None:
    module = make_module(
        """
        def broken() -> int:
            raise RuntimeError("no luck")
        """
    )
    lines: list[str] = []
    dr = build(module, default.PrintLn(verbosity=2, print_fn=lines.append))
    with pytest.raises(RuntimeError, match="no luck"):
        dr.execute(["broken"])
    assert lines[0] == "Executing node: broken. Inputs: \n{}"
    assert "Status: Failure. Error: \nRuntimeError('no luck')" in lines[1]


@pytest.mark.parametrize(
    ("node_filter", "expected"),
    [("b", ["b"]), (["a", "c"], ["a", "c"]), (lambda name, tags: name > "a", ["b", "c"])],
    ids=["str", "list", "callable"],
)
def test_println_node_filter(chain: types.ModuleType, node_filter: Any, expected: list) -> None:
    lines: list[str] = []
    build(chain, default.PrintLn(print_fn=lines.append, node_filter=node_filter)).execute(["c"])
    assert [line.split(": ")[1].rstrip(".") for line in lines[::2]] == expected


def test_println_rejects_bad_verbosity() -> None:
    with pytest.raises(ValueError, match="verbosity must be 1 or 2"):
        default.PrintLn(verbosity=3)


def test_println_time_format() -> None:
    fmt = default.PrintLn._format_time_delta
    assert fmt(0.0000308) == "30.8μs"
    assert fmt(0.0123) == "12.3ms"
    assert fmt(2.5) == "2.5s"


def test_println_under_dynamic_execution(fan_out: types.ModuleType) -> None:
    lines: list[str] = []
    hook = default.PrintLn(print_fn=lines.append)
    dr = build(fan_out, hook, dynamic=True)
    assert dr.execute(["squares"], inputs={"n": 5}) == {"squares": [0, 1, 4, 9, 16]}
    started = [line[len("Executing node: ") : -1] for line in lines if line.startswith("Exec")]
    finished = [m.group(1) for m in map(FINISHED.match, lines) if m]
    assert sorted(started) == sorted(finished)
    assert len(started) == 7
    squared_labels = [label for label in started if label.endswith(":squared")]
    assert len(squared_labels) == len(set(squared_labels)) == 5
    assert all(":" in label for label in started)
    assert hook.timer_dict == {}


# ---- PDBDebugger ----------------------------------------------------------------------------
@pytest.fixture
def fake_pdb(monkeypatch: pytest.MonkeyPatch) -> dict[str, list]:
    """Replaces ``pdb.set_trace`` and ``pdb.runcall`` with recorders."""
    calls: dict[str, list] = {"set_trace": [], "runcall": []}

    def set_trace() -> None:
        calls["set_trace"].append(dict(default.PDBDebugger.CONTEXT))

    def runcall(fn: Any, *args: Any, **kwargs: Any) -> Any:
        calls["runcall"].append((fn, kwargs))
        return fn(*args, **kwargs)

    monkeypatch.setattr(default.pdb, "set_trace", set_trace)
    monkeypatch.setattr(default.pdb, "runcall", runcall)
    monkeypatch.setattr(default.PDBDebugger, "CONTEXT", {})
    return calls


def test_pdb_before(chain: types.ModuleType, fake_pdb: dict[str, list], caplog: Any) -> None:
    caplog.set_level(logging.WARNING, logger="cayley.lifecycle.default")
    dr = build(chain, default.PDBDebugger("b", before=True))
    assert dr.execute(["c"]) == {"c": 21}
    assert len(fake_pdb["set_trace"]) == 1
    context = fake_pdb["set_trace"][0]
    assert context["node_name"] == "b"
    assert context["node_kwargs"] == {"a": 1}
    assert context["node_return_type"] is int
    assert fake_pdb["runcall"] == []
    assert any("Opening pdb before node b" in r.getMessage() for r in caplog.records)


def test_pdb_during(chain: types.ModuleType, fake_pdb: dict[str, list]) -> None:
    dr = build(chain, default.PDBDebugger(["b", "c"], during=True))
    assert dr.execute(["c"]) == {"c": 21}
    assert [kwargs for _, kwargs in fake_pdb["runcall"]] == [{"a": 1}, {"b": 2, "a": 1}]
    assert fake_pdb["set_trace"] == []
    assert default.PDBDebugger.CONTEXT["node_name"] == "c"
    assert default.PDBDebugger.CONTEXT["node_callable"] is fake_pdb["runcall"][1][0]


def test_pdb_after(chain: types.ModuleType, fake_pdb: dict[str, list]) -> None:
    dr = build(chain, default.PDBDebugger(lambda name, tags: name == "c", after=True))
    dr.execute(["c"])
    assert len(fake_pdb["set_trace"]) == 1
    context = fake_pdb["set_trace"][0]
    assert (context["node_name"], context["result"], context["success"]) == ("c", 21, True)


def test_pdb_without_modes_does_nothing(chain: types.ModuleType, fake_pdb: dict[str, list]) -> None:
    assert build(chain, default.PDBDebugger(None)).execute(["c"]) == {"c": 21}
    assert fake_pdb == {"set_trace": [], "runcall": []}


# ---- SlowDownYouMoveTooFast ----------------------------------------------------------------
def test_slow_down_sleeps_before_each_node(
    chain: types.ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    sleeps: list[float] = []
    monkeypatch.setattr(default.time, "sleep", sleeps.append)
    assert build(chain, default.SlowDownYouMoveTooFast(0.25, 0.0)).execute(["c"]) == {"c": 21}
    assert sleeps == [0.25, 0.25, 0.25]


def test_slow_down_never_sleeps_a_negative_time(
    chain: types.ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    sleeps: list[float] = []
    monkeypatch.setattr(default.time, "sleep", sleeps.append)
    build(chain, default.SlowDownYouMoveTooFast(-1.0, 0.0)).execute(["c"])
    assert sleeps == []


# ---- FunctionInputOutputTypeChecker --------------------------------------------------------
TYPED = """
def numbers(raw: list) -> list[int]:
    return raw

def total(numbers: list[int]) -> int:
    return sum(numbers)

def mapping(raw: list) -> dict[str, int]:
    return {str(i): v for i, v in enumerate(raw)}

def liar() -> int:
    return "not an int"
"""


@pytest.fixture(scope="module")
def typed() -> types.ModuleType:
    """Nodes with deep annotations."""
    return make_module(TYPED)


def test_type_checker_accepts_correct_values(typed: types.ModuleType) -> None:
    dr = build(typed, default.FunctionInputOutputTypeChecker())
    assert dr.execute(["total", "mapping"], inputs={"raw": [1, 2]}) == {
        "total": 3,
        "mapping": {"0": 1, "1": 2},
    }


def test_type_checker_rejects_bad_output(typed: types.ModuleType) -> None:
    dr = build(typed, default.FunctionInputOutputTypeChecker())
    with pytest.raises(TypeError) as info:
        dr.execute(["liar"])
    assert str(info.value) == "Node 'liar' returned a value of type str, expected int."
    with pytest.raises(TypeError, match=r"Node 'numbers' returned .* expected list\[int\]"):
        dr.execute(["numbers"], inputs={"raw": [1, "x"]})


def test_type_checker_rejects_bad_input(typed: types.ModuleType) -> None:
    dr = build(typed, default.FunctionInputOutputTypeChecker(check_output=False))
    with pytest.raises(TypeError) as info:
        dr.execute(["total"], inputs={"raw": [1, "x"]})
    assert str(info.value) == (
        "Node 'total' received a value of type list for parameter 'numbers', expected list[int]."
    )


def test_type_checker_can_be_switched_off(typed: types.ModuleType) -> None:
    dr = build(typed, default.FunctionInputOutputTypeChecker(check_input=False, check_output=False))
    assert dr.execute(["liar"]) == {"liar": "not an int"}
    with pytest.raises(TypeError, match="unsupported operand"):
        dr.execute(["total"], inputs={"raw": [1, "x"]})


def test_type_checker_does_not_mask_node_errors() -> None:
    module = make_module(
        """
        def broken() -> int:
            raise KeyError("original")
        """
    )
    with pytest.raises(KeyError, match="original"):
        build(module, default.FunctionInputOutputTypeChecker()).execute(["broken"])


def test_type_checker_understands_fan_out(fan_out: types.ModuleType) -> None:
    dr = build(fan_out, default.FunctionInputOutputTypeChecker(), dynamic=True)
    assert dr.execute(["squares"], inputs={"n": 3}) == {"squares": [0, 1, 4]}


def test_type_checker_checks_collected_items() -> None:
    module = make_module(
        """
        from typing import Any

        from cayley.htypes import Collect, Parallelizable

        def item() -> Parallelizable[int]:
            yield from range(3)

        def labelled(item: int) -> Any:
            return str(item)

        def gathered(labelled: Collect[int]) -> list:
            return list(labelled)
        """
    )
    dr = build(module, default.FunctionInputOutputTypeChecker(), dynamic=True)
    with pytest.raises(TypeError, match="Node 'gathered' received .* parameter 'labelled'"):
        dr.execute(["gathered"])


# ---- GracefulErrorAdapter -------------------------------------------------------------------
def test_graceful_standard_run(graceful: types.ModuleType) -> None:
    dr = build(graceful, default.GracefulErrorAdapter(error_to_catch=graceful.Boom))
    assert dr.execute(["ok", "downstream", "failing"]) == {
        "ok": 1,
        "downstream": None,
        "failing": None,
    }
    assert dr.execute(["further"]) == {"further": None}


def test_graceful_custom_sentinel_and_injection(graceful: types.ModuleType) -> None:
    sentinel = object()
    dr = build(graceful, default.GracefulErrorAdapter(graceful.Boom, sentinel_value=sentinel))
    result = dr.execute(["further", "report"])
    assert result["further"] is sentinel
    assert result["report"] == f"failing={sentinel!r} ok=1"


def test_graceful_injection_can_be_disabled(graceful: types.ModuleType) -> None:
    adapter = default.GracefulErrorAdapter(graceful.Boom, allow_injection=False)
    assert build(graceful, adapter).execute(["report"]) == {"report": None}


def test_graceful_injection_tag(graceful: types.ModuleType) -> None:
    dr = build(graceful, default.GracefulErrorAdapter(graceful.Boom))
    tags = {v.name: v.tags for v in dr.list_available_variables()}
    assert tags["report"]["hamilton.error_sentinel"] == default.INJECTION_ALLOWED
    assert "hamilton.error_sentinel" not in tags["downstream"]


def test_graceful_other_errors_propagate(graceful: types.ModuleType) -> None:
    dr = build(graceful, default.GracefulErrorAdapter(graceful.Boom))
    with pytest.raises(graceful.Other, match="not caught"):
        dr.execute(["other_error"])


def test_graceful_sentinel_matches_equal_values_of_the_same_type() -> None:
    adapter = default.GracefulErrorAdapter(ValueError, sentinel_value="FAILED")
    assert adapter._is_sentinel("".join(["FAI", "LED"]))
    assert not adapter._is_sentinel("ok")
    assert not adapter._is_sentinel(["FAILED"])
    numeric = default.GracefulErrorAdapter(ValueError, sentinel_value=-1)
    assert numeric._is_sentinel(-1)
    assert not numeric._is_sentinel(-1.0)


def test_graceful_sentinel_downstream_of_an_input() -> None:
    module = make_module(
        """
        def parsed(raw: str) -> int:
            return int(raw)

        def doubled(parsed: int) -> int:
            return parsed * 2
        """
    )
    dr = build(module, default.GracefulErrorAdapter(ValueError, sentinel_value=-1))
    assert dr.execute(["doubled"], inputs={"raw": "x"}) == {"doubled": -1}
    assert dr.execute(["doubled"], inputs={"raw": "4"}) == {"doubled": 8}


@pytest.mark.parametrize("try_all_parallel", [True, False])
def test_graceful_dynamic_item_failure(graceful: types.ModuleType, try_all_parallel: bool) -> None:
    adapter = default.GracefulErrorAdapter(graceful.Boom, try_all_parallel=try_all_parallel)
    dr = build(graceful, adapter, dynamic=True)
    assert dr.execute(["gather"]) == {"gather": [0, 1, None, 3]}


@pytest.mark.parametrize(
    ("try_all_parallel", "expected"), [(True, [0, 1, 2, None]), (False, [None])]
)
def test_graceful_dynamic_generator_failure(
    graceful: types.ModuleType, try_all_parallel: bool, expected: list
) -> None:
    adapter = default.GracefulErrorAdapter(graceful.Boom, try_all_parallel=try_all_parallel)
    dr = build(graceful, adapter, dynamic=True)
    assert dr.execute(["gather2"]) == {"gather2": expected}


def test_graceful_dynamic_expander_failing_when_called(graceful: types.ModuleType) -> None:
    dr = build(graceful, default.GracefulErrorAdapter(graceful.Boom), dynamic=True)
    assert dr.execute(["gather3"]) == {"gather3": [None]}


def test_graceful_expander_with_sentinel_input() -> None:
    module = make_module(
        """
        from cayley.htypes import Collect, Parallelizable

        def size(raw: str) -> int:
            return int(raw)

        def item(size: int) -> Parallelizable[int]:
            yield from range(size)

        def plus_one(item: int) -> int:
            return item + 1

        def gathered(plus_one: Collect[int]) -> list:
            return list(plus_one)
        """
    )
    sentinel = "ERR"
    adapter = default.GracefulErrorAdapter(ValueError, sentinel_value=sentinel)
    dr = build(module, adapter, dynamic=True)
    assert dr.execute(["gathered"], inputs={"raw": "3"}) == {"gathered": [1, 2, 3]}
    assert dr.execute(["gathered"], inputs={"raw": "x"}) == {"gathered": [sentinel]}


# ---- NoEdgeAndInputTypeChecking ------------------------------------------------------------
MISMATCHED = """
def a() -> int:
    return 1

def b(a: str) -> str:
    return a

def c(x: int) -> int:
    return x
"""


def test_no_type_checking_lets_mismatched_edges_build() -> None:
    module = make_module(MISMATCHED)
    with pytest.raises(ValueError, match="Type mismatch"):
        driver.Builder().with_modules(module).build()
    dr = build(module, default.NoEdgeAndInputTypeChecking())
    assert dr.execute(["b"]) == {"b": 1}


def test_no_type_checking_accepts_any_input() -> None:
    module = make_module(MISMATCHED.replace("a: str", "a: int"))
    with pytest.raises(ValueError, match="Type requirement mismatch"):
        driver.Builder().with_modules(module).build().execute(["c"], inputs={"x": "text"})
    dr = build(module, default.NoEdgeAndInputTypeChecking())
    assert dr.execute(["c"], inputs={"x": "text"}) == {"c": "text"}


def test_no_type_checking_methods() -> None:
    adapter = default.NoEdgeAndInputTypeChecking()
    assert adapter.check_edge_types_match(int, str)
    assert adapter.validate_input(int, "x")


# ---- engine contract ------------------------------------------------------------------------
def test_node_input_types_are_bare_types(chain: types.ModuleType) -> None:
    seen: dict[str, Any] = {}

    class Recorder(NodeExecutionHook):
        """Records the input types it is given."""

        def run_before_node_execution(self, *, node_name: str, **kwargs: Any) -> None:
            seen[node_name] = kwargs["node_input_types"]

        def run_after_node_execution(self, **kwargs: Any) -> None:
            pass

    build(chain, Recorder()).execute(["b"])
    assert seen["b"] == {"a": int}
