"""A catalogue of user mistakes and the errors cayley answers them with.

Each test makes one mistake a user could make, at build time or at execute time, and
checks three things: the exception's type, that its text (message and notes) names what is
wrong (the node, parameter, input, decorator or setting), and that it says what to do.
Read top to bottom, the file documents cayley's errors.

``expect(...)`` runs the mistake and returns the error; ``names`` must all appear in its
text, and so must ``advice``, a fragment of the suggested fix.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable
from typing import Any

import pytest

from cayley import ad_hoc_utils, base, driver
from cayley.data_quality.base import DataValidationError
from cayley.execution import executors, grouping
from cayley.function_modifiers.base import InvalidDecoratorException
from cayley.graph import CycleError, GraphError, ScopeError
from cayley.lifecycle import api
from cayley.lifecycle.base import InvalidLifecycleAdapter

HEADER = """
import pandas as pd
from cayley.htypes import Collect, Parallelizable
from cayley.function_modifiers import (
    check_output, config, extract_columns, extract_fields, parameterize, source, tag, value,
)
"""

FAN_OUT = """
def items(n: int) -> Parallelizable[int]:
    yield from range(n)

def total(processed: Collect[int]) -> int:
    return sum(processed)
"""


def text_of(error: BaseException) -> str:
    """The error's message and its notes."""
    return "\n".join([str(error), *getattr(error, "__notes__", [])])


def expect(
    error_type: type[BaseException],
    mistake: Callable[[], Any],
    names: Iterable[str],
    advice: str,
) -> BaseException:
    """Runs ``mistake``; checks the error's type, the names it gives and its advice."""
    with pytest.raises(error_type) as info:
        mistake()
    text = text_of(info.value)
    for name in names:
        assert name in text, f"{name!r} is not named in: {text}"
    assert advice in text, f"no advice {advice!r} in: {text}"
    return info.value


def module(source: str) -> Any:
    """A module of node functions written after the shared imports."""
    return ad_hoc_utils.module_from_source(HEADER + source)


def build(source: str, config: dict | None = None, remote: Any = None) -> driver.Driver:
    """A driver over ``source``; dynamic execution with blocks on ``remote`` if given."""
    builder = driver.Builder().with_modules(module(source))
    if config:
        builder = builder.with_config(config)
    if remote is not None:
        builder = builder.enable_dynamic_execution(allow_experimental_mode=True)
        builder = builder.with_remote_executor(remote)
    return builder.build()


def fork() -> executors.MultiProcessingExecutor:
    return executors.MultiProcessingExecutor(2, start_method="fork")


# =====================================================================================
# At build time: functions, annotations, graph shape
# =====================================================================================
def test_missing_return_annotation():
    expect(
        ValueError,
        lambda: build("def doubled(x: int):\n    return 2 * x"),
        ["return value", "doubled"],
        "Annotate it",
    )


def test_missing_parameter_annotation():
    expect(
        ValueError,
        lambda: build("def doubled(x) -> int:\n    return 2 * x"),
        ["'x'", "doubled"],
        "needs an annotation",
    )


def test_producer_and_consumer_types_disagree():
    expect(
        GraphError,
        lambda: build(
            "def count(x: int) -> int:\n    return x\n\ndef label(count: str) -> str:\n    return count"
        ),
        ["'count'", "'label'", "str", "int"],
        "Change one of the two annotations",
    )


def test_two_functions_want_one_input_with_incompatible_types():
    expect(
        GraphError,
        lambda: build("def a(x: int) -> int:\n    return x\n\ndef b(x: str) -> str:\n    return x"),
        ["'x'", "'b'", "str", "int"],
        "Annotate the parameter with one type",
    )


def test_same_function_in_two_modules():
    first = ad_hoc_utils.module_from_source("def total(x: int) -> int:\n    return x")
    second = ad_hoc_utils.module_from_source("def total(y: int) -> int:\n    return y")
    expect(
        GraphError,
        lambda: driver.Builder().with_modules(first, second).build(),
        ["total", first.__name__, second.__name__],
        "allow_module_overrides()",
    )


def test_decorator_output_clashes_with_a_function():
    error = expect(
        GraphError,
        lambda: build(
            "@parameterize(b={'x': value(1)})\ndef a(x: int) -> int:\n    return x\n\n"
            "def b(y: int) -> int:\n    return y"
        ),
        ["function b", "function a"],
        "Rename one",
    )
    assert "more than once" in str(error)


def test_cycle_between_two_functions():
    expect(
        CycleError,
        lambda: build("def a(b: int) -> int:\n    return b\n\ndef b(a: int) -> int:\n    return a"),
        ["a -> b", "b -> a"],
        "Break the loop",
    )


def test_function_that_needs_itself():
    expect(
        CycleError,
        lambda: build("def total(total: int) -> int:\n    return total + 1"),
        ["total -> total"],
        "Break the loop",
    )


def test_module_expected_but_function_given():
    def doubled(x: int) -> int:
        return 2 * x

    expect(
        TypeError,
        lambda: driver.Builder().with_modules(doubled),
        ["doubled", "function"],
        "create_temporary_module",
    )


def test_driver_constructor_given_the_module_first():
    flow = module("def doubled(x: int) -> int:\n    return 2 * x")
    expect(TypeError, lambda: driver.Driver(flow), [flow.__name__, "config"], "Driver({}, module)")


# ---- decorators ------------------------------------------------------------------------
def test_parameterize_names_a_parameter_the_function_lacks():
    expect(
        InvalidDecoratorException,
        lambda: build("@parameterize(a1={'y': value(1)})\ndef a(x: int) -> int:\n    return x"),
        ["@parameterize", "['y']", "'x'"],
        "the function's parameters are",
    )


def test_source_given_something_else_than_a_node_name():
    expect(
        InvalidDecoratorException,
        lambda: build("@parameterize(a1={'x': source(3)})\ndef a(x: int) -> int:\n    return x"),
        ["source()", "3"],
        "takes the name of a node",
    )


def test_extract_fields_given_a_list_of_names():
    expect(
        InvalidDecoratorException,
        lambda: build("@extract_fields(['lo', 'hi'])\ndef bounds(x: int) -> dict:\n    return {}"),
        ["@extract_fields", "bounds", "['lo', 'hi']"],
        "needs a dict mapping field names to types",
    )


def test_extract_fields_on_a_function_that_does_not_return_a_dict():
    expect(
        InvalidDecoratorException,
        lambda: build("@extract_fields({'lo': int})\ndef bounds(x: int) -> int:\n    return x"),
        ["@extract_fields", "bounds", "int"],
        "needs a function returning dict",
    )


def test_extract_columns_given_a_list():
    expect(
        InvalidDecoratorException,
        lambda: build(
            "@extract_columns(['a', 'b'])\ndef frame(x: int) -> pd.DataFrame:\n    return x"
        ),
        ["@extract_columns"],
        "unpack the list with `*`",
    )


def test_tag_value_that_is_not_a_string():
    expect(
        InvalidDecoratorException,
        lambda: build("@tag(owner=3)\ndef a(x: int) -> int:\n    return x"),
        ["@tag", "owner=3"],
        "values must be a string or a list of strings",
    )


def test_check_output_with_a_misspelt_validator():
    expect(
        InvalidDecoratorException,
        lambda: build("@check_output(rnge=(0, 1))\ndef a(x: int) -> int:\n    return x"),
        ["@check_output", "'a'", "rnge"],
        "Validator keywords: [",
    )


# ---- Parallelizable and Collect ----------------------------------------------------------
def test_parallelizable_without_an_item_type():
    expect(
        ScopeError,
        lambda: build("def items(n: int) -> Parallelizable:\n    return range(n)"),
        ["'items'", "bare Parallelizable"],
        "Parallelizable[int]",
    )


def test_parallelizable_as_a_parameter_annotation():
    expect(
        ScopeError,
        lambda: build(
            FAN_OUT + "def processed(items: Parallelizable[int]) -> int:\n    return items"
        ),
        ["'items'", "'processed'"],
        "Collect[int] to receive every item",
    )


def test_collect_as_a_return_annotation():
    expect(
        ScopeError,
        lambda: build("def values(n: int) -> Collect[int]:\n    return [n]"),
        ["'values'", "Collect[int]"],
        "Return list[...] instead",
    )


def test_collect_without_an_item_type():
    expect(
        ScopeError,
        lambda: build(
            "def items(n: int) -> Parallelizable[int]:\n    yield from range(n)\n\n"
            "def total(items: Collect) -> int:\n    return sum(items)"
        ),
        ["'items'", "'total'", "bare Collect"],
        "Collect[int]",
    )


def test_collect_of_a_node_outside_any_block():
    expect(
        ScopeError,
        lambda: build(
            "def base(x: int) -> int:\n    return x\n\n"
            "def total(base: Collect[int]) -> int:\n    return sum(base)"
        ),
        ["'total'", "'base'"],
        "Make an upstream function return Parallelizable[...]",
    )


def test_collect_and_per_item_value_of_the_same_block_in_one_function():
    expect(
        ScopeError,
        lambda: build(
            "def items(n: int) -> Parallelizable[int]:\n    yield from range(n)\n\n"
            "def processed(items: int) -> int:\n    return items\n\n"
            "def total(processed: Collect[int], items: int) -> int:\n    return sum(processed)"
        ),
        ["'total'", "'processed'"],
        "put the Collect in a function of its own",
    )


def test_items_of_two_different_blocks_in_one_function():
    expect(
        ScopeError,
        lambda: build(
            "def left(n: int) -> Parallelizable[int]:\n    yield from range(n)\n\n"
            "def right(n: int) -> Parallelizable[int]:\n    yield from range(n)\n\n"
            "def pair(left: int, right: int) -> int:\n    return left + right"
        ),
        ["'pair'", "left", "right"],
        "Collect one of them first",
    )


def test_collect_type_differs_from_the_block_values():
    expect(
        GraphError,
        lambda: build(
            FAN_OUT.replace("Collect[int]", "Collect[str]")
            + "def processed(items: int) -> int:\n    return items"
        ),
        ["'processed'", "'total'", "Collect[str]", "int"],
        "Change one of the two annotations",
    )


# ---- adapters and executors ----------------------------------------------------------------
def test_adapter_given_as_a_class():
    flow = module("def a(x: int) -> int:\n    return x")
    expect(
        TypeError,
        lambda: driver.Builder().with_modules(flow).with_adapters(base.DictResult).build(),
        ["DictResult"],
        "pass an instance",
    )


def test_object_that_is_not_an_adapter():
    class Logger:
        def run_before_node_execution(self, **kwargs: Any) -> None:
            print(kwargs)

    flow = module("def a(x: int) -> int:\n    return x")
    expect(
        TypeError,
        lambda: driver.Builder().with_modules(flow).with_adapters(Logger()).build(),
        ["Logger"],
        "Subclass a class of cayley.lifecycle",
    )


def test_two_result_builders():
    flow = module("def a(x: int) -> int:\n    return x")
    expect(
        InvalidLifecycleAdapter,
        lambda: (
            driver.Builder()
            .with_modules(flow)
            .with_adapters(base.DictResult(), base.PandasDataFrameResult())
            .build()
        ),
        ["DictResult", "PandasDataFrameResult", "do_build_result"],
        "Remove all but one",
    )


def test_executor_given_as_a_class():
    expect(
        TypeError,
        lambda: driver.Builder().with_remote_executor(executors.MultiThreadingExecutor),
        ["with_remote_executor", "MultiThreadingExecutor"],
        "write MultiThreadingExecutor(...)",
    )


def test_grouping_strategy_given_as_a_class():
    expect(
        TypeError,
        lambda: driver.Builder().with_grouping_strategy(grouping.GroupNodesIndividually),
        ["with_grouping_strategy", "GroupNodesIndividually"],
        "write GroupNodesIndividually(...)",
    )


def test_executor_together_with_an_execution_manager():
    manager = executors.DefaultExecutionManager()
    expect(
        driver.InvalidExecutorException,
        lambda: (
            driver.Builder()
            .with_execution_manager(manager)
            .with_remote_executor(executors.MultiThreadingExecutor(2))
        ),
        ["with_remote_executor", "with_execution_manager"],
        "the manager chooses the executors",
    )


def test_pool_of_no_workers():
    expect(
        ValueError, lambda: executors.MultiThreadingExecutor(0), ["max_tasks", "0"], "at least 1"
    )


def test_negative_ray_retries():
    from cayley.plugins import h_ray

    expect(
        ValueError,
        lambda: h_ray.RayTaskExecutor(max_retries=-1),
        ["max_retries", "-1"],
        "0 or more",
    )


def test_pool_size_given_as_a_string():
    expect(TypeError, lambda: executors.MultiThreadingExecutor("2"), ["max_tasks", "'2'"], "int")


def test_misspelt_process_start_method():
    expect(
        ValueError,
        lambda: executors.MultiProcessingExecutor(2, start_method="frok"),
        ["start_method", "frok"],
        "fork",
    )


# =====================================================================================
# At execute time: requests, inputs, values
# =====================================================================================
DOUBLED = "def doubled(x: int) -> int:\n    return 2 * x"


def test_misspelt_output():
    expect(
        ValueError,
        lambda: build(DOUBLED).execute(["dubled"], inputs={"x": 1}),
        ["'dubled'"],
        "did you mean 'doubled'?",
    )


def test_output_given_as_a_string_instead_of_a_list():
    expect(
        TypeError,
        lambda: build(DOUBLED).execute("doubled", inputs={"x": 1}),
        ["'doubled'", "final_vars"],
        "Wrap it in a list: ['doubled']",
    )


def test_output_that_is_not_a_name_function_or_node():
    expect(
        TypeError,
        lambda: build(DOUBLED).execute([3], inputs={"x": 1}),
        ["3", "int"],
        "use a node name, a function or a node",
    )


def test_function_of_another_module_requested():
    def doubled(x: int) -> int:
        return 2 * x

    expect(
        ValueError,
        lambda: build(DOUBLED).execute([doubled], inputs={"x": 1}),
        ["doubled"],
        "not a function of this driver's modules",
    )


def test_missing_input():
    expect(
        ValueError,
        lambda: build(DOUBLED).execute(["doubled"]),
        ["input x", "['doubled']"],
        "Pass them in execute(inputs={...})",
    )


def test_input_of_the_wrong_type():
    expect(
        ValueError,
        lambda: build(DOUBLED).execute(["doubled"], inputs={"x": "two"}),
        ["x", "'two'", "int", "str", "['doubled']"],
        "Pass values of the expected types",
    )


def test_value_in_both_config_and_inputs():
    expect(
        ValueError,
        lambda: build(DOUBLED, config={"x": 1}).execute(["doubled"], inputs={"x": 2}),
        ["['x']", "config"],
        "Pass each value in one place",
    )


def test_input_that_names_a_computed_node_is_ignored_with_a_warning():
    dr = build(DOUBLED)
    with pytest.warns(UserWarning) as record:
        assert dr.execute(["doubled"], inputs={"x": 1, "doubled": 5}) == {"doubled": 2}
    text = str(record[0].message)
    assert "['doubled']" in text and "Pass them as overrides=" in text


def test_override_that_names_no_node_is_ignored_with_a_warning():
    dr = build(DOUBLED)
    with pytest.warns(UserWarning) as record:
        result = dr.execute(["doubled"], inputs={"x": 1}, overrides={"dubled": 100})
    assert result == {"doubled": 2}
    text = str(record[0].message)
    assert "'dubled'" in text and "'doubled'" in text and "Check the spelling" in text, text


def test_node_raising_names_the_node_and_its_function():
    flow = "def ratio(x: int) -> float:\n    return 1 / x"
    expect(
        ZeroDivisionError,
        lambda: build(flow).execute(["ratio"], inputs={"x": 0}),
        ["'ratio'", "function"],
        "while computing node",
    )


@pytest.mark.parametrize("remote", [executors.MultiThreadingExecutor, fork])
def test_item_raising_inside_a_batch_names_the_item(remote):
    flow = FAN_OUT + "def processed(items: int) -> int:\n    return 10 // (items - 37)"
    expect(
        ZeroDivisionError,
        lambda: build(flow, remote=remote() if remote is fork else remote(2)).execute(
            ["total"], inputs={"n": 100}
        ),
        ["'processed'", "item 37 of 'items'"],
        "while computing node",
    )


@pytest.mark.parametrize("remote", [None, executors.SynchronousLocalTaskExecutor, fork])
def test_parallelizable_function_returning_a_non_iterable(remote):
    flow = (
        "def items(n: int) -> Parallelizable[int]:\n    return n\n\n"
        "def processed(items: int) -> int:\n    return items\n\n"
        "def total(processed: Collect[int]) -> int:\n    return sum(processed)"
    )
    executor = None if remote is None else remote()
    expect(
        TypeError,
        lambda: build(flow, remote=executor).execute(["total"], inputs={"n": 3}),
        ["'items'", "returned int"],
        "which is not iterable",
    )


def test_generator_failing_midway_names_the_item():
    flow = (
        "def items(n: int) -> Parallelizable[int]:\n    yield 1\n    raise KeyError('gone')\n\n"
        "def processed(items: int) -> int:\n    return items\n\n"
        "def total(processed: Collect[int]) -> int:\n    return sum(processed)"
    )
    expect(
        KeyError,
        lambda: build(flow).execute(["total"], inputs={"n": 3}),
        ["'items'", "item 1"],
        "while producing item",
    )


def test_input_that_cannot_reach_a_worker_process():
    flow = FAN_OUT + "def processed(items: int, lock: object) -> int:\n    return items"
    error = expect(
        executors.SerializationError,
        lambda: build(flow, remote=fork()).execute(
            ["total"], inputs={"n": 2, "lock": threading.Lock()}
        ),
        ["'lock'", "processed"],
        "another process",
    )
    assert isinstance(error, TypeError)


def test_result_that_cannot_come_back_from_a_worker_process():
    flow = (
        "import threading\n"
        + FAN_OUT.replace("Collect[int]", "Collect[object]").replace("sum(", "len(")
        + "def processed(items: int) -> object:\n    return threading.Lock()"
    )
    error = expect(
        executors.SerializationError,
        lambda: build(flow, remote=fork()).execute(["total"], inputs={"n": 2}),
        ["'processed'", " of 'items'"],
        "cannot be sent back",
    )
    # both items fail; the one whose result comes back first is named
    assert re.search(r"item [01] of 'items'", text_of(error)), text_of(error)


def test_unpicklable_input_error_says_what_to_do():
    flow = FAN_OUT + "def processed(items: int, lock: object) -> int:\n    return items"
    expect(
        executors.SerializationError,
        lambda: build(flow, remote=fork()).execute(
            ["total"], inputs={"n": 2, "lock": threading.Lock()}
        ),
        ["'lock'", "processed"],
        "MultiThreadingExecutor",
    )


def test_check_output_failing():
    flow = (
        "@check_output(range=(0, 10), importance='fail')\ndef score(x: int) -> int:\n    return x"
    )
    expect(
        DataValidationError,
        lambda: build(flow).execute(["score"], inputs={"x": 50}),
        ["score", "50", "[0, 10]"],
        "does not lie within",
    )


def test_extract_fields_function_omits_a_declared_field():
    flow = (
        "@extract_fields({'lo': int, 'hi': int})\ndef bounds(x: int) -> dict:\n    return {'lo': x}"
    )
    expect(
        InvalidDecoratorException,
        lambda: build(flow).execute(["hi"], inputs={"x": 1}),
        ["hi", "bounds", "['lo']"],
        "It only produced",
    )


def test_hook_raising_names_the_adapter():
    class Auditor(api.NodeExecutionHook):
        def run_before_node_execution(self, **future_kwargs: Any) -> None:
            raise RuntimeError("audit log unavailable")

        def run_after_node_execution(self, **future_kwargs: Any) -> None:
            pass

    flow = module(DOUBLED)
    dr = driver.Builder().with_modules(flow).with_adapters(Auditor()).build()
    expect(
        RuntimeError,
        lambda: dr.execute(["doubled"], inputs={"x": 1}),
        ["Auditor.run_before_node_execution", "audit log unavailable"],
        "raised in lifecycle adapter",
    )


def test_hook_without_future_kwargs():
    class Narrow(api.NodeExecutionHook):
        def run_before_node_execution(self, node_name: str) -> None:
            pass

        def run_after_node_execution(self, **future_kwargs: Any) -> None:
            pass

    flow = module(DOUBLED)
    dr = driver.Builder().with_modules(flow).with_adapters(Narrow()).build()
    expect(
        TypeError,
        lambda: dr.execute(["doubled"], inputs={"x": 1}),
        ["Narrow.run_before_node_execution"],
        "must accept **future_kwargs",
    )


def test_the_catalogue_covers_at_least_thirty_mistakes():
    import sys

    tests = [name for name in dir(sys.modules[__name__]) if name.startswith("test_")]
    assert len(tests) - 1 >= 30
