"""Each deliberate difference listed in the README, shown on both libraries.

Every test runs the same code on apache-hamilton 1.90 and on cayley and asserts what each does,
so the README's list stays true.
"""

import logging
import warnings
from typing import Any

import pytest

from tests.parity.conftest import Library

HAMILTON, CAYLEY = Library("hamilton"), Library("cayley")


def _module(lib: Library, *fns: Any) -> Any:
    return lib.ad_hoc_utils.create_temporary_module(*fns)


def _builder(lib: Library, *fns: Any) -> Any:
    return lib.driver.Builder().with_modules(_module(lib, *fns))


def _chain(lib: Library) -> tuple:
    def b(a: int) -> int:
        return a + 1

    def c(b: int) -> int:
        return b * 2

    return b, c


@pytest.fixture(autouse=True)
def _quiet_hamilton_errors(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.CRITICAL, logger="hamilton")


def test_cycles_are_rejected_when_the_driver_is_built() -> None:
    def a(c: int) -> int:
        return c

    def c(a: int) -> int:
        return a

    dr = _builder(HAMILTON, a, c).build()  # builds; fails only when run
    with pytest.raises(RecursionError):
        dr.execute(["c"])
    with pytest.raises(ValueError, match="cycle"):
        _builder(CAYLEY, a, c).build()


def test_dynamic_execution_needs_no_experimental_flag() -> None:
    with pytest.raises(ValueError):
        _builder(HAMILTON, *_chain(HAMILTON)).enable_dynamic_execution().build()
    dr = _builder(CAYLEY, *_chain(CAYLEY)).enable_dynamic_execution().build()
    assert dr.execute(["c"], inputs={"a": 1}) == {"c": 4}


def test_setting_an_executor_turns_dynamic_execution_on() -> None:
    def local(lib: Library) -> Any:
        return lib.module("execution.executors").SynchronousLocalTaskExecutor()

    with pytest.raises(ValueError):  # Hamilton: enable_dynamic_execution() must come first
        _builder(HAMILTON, *_chain(HAMILTON)).with_remote_executor(local(HAMILTON))
    dr = _builder(CAYLEY, *_chain(CAYLEY)).with_remote_executor(local(CAYLEY)).build()
    assert dr.execute(["c"], inputs={"a": 1}) == {"c": 4}


def _fan_out(lib: Library) -> tuple:
    htypes = lib.htypes

    def items(n: int) -> htypes.Parallelizable[int]:
        yield from range(n)

    def squared(items: int) -> int:
        return items * items

    def total(squared: htypes.Collect[int]) -> int:
        return sum(squared)

    return items, squared, total


def test_fan_out_runs_on_the_plain_driver() -> None:
    with pytest.raises(HAMILTON.driver.InvalidExecutorException):
        _builder(HAMILTON, *_fan_out(HAMILTON)).build().execute(["total"], inputs={"n": 3})
    dr = _builder(CAYLEY, *_fan_out(CAYLEY)).build()
    assert dr.execute(["total"], inputs={"n": 3}) == {"total": 5}


def test_a_function_collecting_two_blocks_runs() -> None:
    for lib in (HAMILTON, CAYLEY):
        htypes = lib.htypes
        items, squared, _ = _fan_out(lib)

        def cubed(items: int) -> int:
            return items**3

        def both(squared: htypes.Collect[int], cubed: htypes.Collect[int]) -> int:
            return sum(squared) + sum(cubed)

        dr = (
            _builder(lib, items, squared, cubed, both)
            .enable_dynamic_execution(allow_experimental_mode=True)
            .build()
        )
        if lib is HAMILTON:
            with pytest.raises(KeyError):
                dr.execute(["both"], inputs={"n": 3})
        else:
            assert dr.execute(["both"], inputs={"n": 3}) == {"both": 5 + 9}


def test_a_malformed_fan_out_is_reported_when_the_driver_is_built() -> None:
    _, squared, total = _fan_out(HAMILTON)
    _builder(HAMILTON, squared, total).build()  # builds; fails only when run
    _, squared, total = _fan_out(CAYLEY)
    with pytest.raises(ValueError, match="not inside a Parallelizable block"):
        _builder(CAYLEY, squared, total).build()


def test_adapters_can_only_loosen_input_checks() -> None:
    for lib in (HAMILTON, CAYLEY):

        class RejectAll(lib.module("lifecycle.base").BaseDoValidateInput):
            def do_validate_input(self, *, node_type: type, input_value: Any) -> bool:
                return False

        dr = _builder(lib, *_chain(lib)).with_adapters(RejectAll()).build()
        if lib is HAMILTON:
            with pytest.raises(ValueError):
                dr.execute(["c"], inputs={"a": 1})
        else:
            assert dr.execute(["c"], inputs={"a": 1}) == {"c": 4}


def test_an_overridden_input_is_not_demanded() -> None:
    with pytest.raises(ValueError):
        _builder(HAMILTON, *_chain(HAMILTON)).build().execute(["c"], overrides={"a": 1})
    assert _builder(CAYLEY, *_chain(CAYLEY)).build().execute(["c"], overrides={"a": 1}) == {"c": 4}


def test_requesting_an_input_that_was_not_provided() -> None:
    assert _builder(HAMILTON, *_chain(HAMILTON)).build().execute(["a"]) == {"a": None}
    with pytest.raises(CAYLEY.module("execution.plan").MissingInputsError):
        _builder(CAYLEY, *_chain(CAYLEY)).build().execute(["a"])


def test_inputs_naming_a_computed_node_are_ignored_with_a_warning() -> None:
    for lib in (HAMILTON, CAYLEY):
        dr = _builder(lib, *_chain(lib)).build()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert dr.execute(["c"], inputs={"a": 1, "b": 100}) == {"c": 4}
        shadowing = [w for w in caught if "b" in str(w.message) and "overrides" in str(w.message)]
        assert bool(shadowing) is (lib is CAYLEY)


def test_overrides_naming_no_node_warn_with_close_matches() -> None:
    for lib in (HAMILTON, CAYLEY):
        dr = _builder(lib, *_chain(lib)).build()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert dr.execute(["c"], inputs={"a": 1}, overrides={"bb": 100}) == {"c": 4}
        hints = [w for w in caught if "'bb'" in str(w.message) and "'b'" in str(w.message)]
        assert bool(hints) is (lib is CAYLEY)


def test_a_non_string_source_is_rejected_when_the_graph_is_built() -> None:
    for lib in (HAMILTON, CAYLEY):
        fm = lib.function_modifiers

        @fm.parameterize(out={"x": fm.source(3)})
        def fn(x: int) -> int:
            return x

        builder = _builder(lib, fn)
        if lib is HAMILTON:
            assert 3 in builder.build().graph.nodes  # an input named 3
        else:
            with pytest.raises(fm.InvalidDecoratorException):
                builder.build()


def test_async_driver_returns_a_requested_input_that_is_no_node() -> None:
    import asyncio

    for lib in (HAMILTON, CAYLEY):

        async def go(lib: Library = lib) -> dict:
            dr = await lib.async_driver.Builder().with_modules(_module(lib, *_chain(lib))).build()
            return await dr.execute(["c", "extra"], inputs={"a": 1, "extra": 9})

        if lib is HAMILTON:
            with pytest.raises(KeyError):
                asyncio.run(go())
        else:
            assert asyncio.run(go()) == {"c": 4, "extra": 9}


def test_type_names_are_given_in_full() -> None:
    assert HAMILTON.htypes.get_type_as_string(list[int]) == "list"
    assert CAYLEY.htypes.get_type_as_string(list[int]) == "list[int]"


def test_model_decorator_receives_its_config_key() -> None:
    import pandas as pd

    for lib in (HAMILTON, CAYLEY):

        class Scaled(lib.models.BaseModel):
            def get_dependents(self) -> list[str]:
                return ["x"]

            def predict(self, x: pd.Series) -> pd.Series:
                return x * self.config_parameters

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)

            @lib.function_modifiers.model(Scaled, "factor")
            def scaled() -> pd.Series:
                """x times the configured factor."""

        builder = _builder(lib, scaled).with_config({"factor": 3})
        if lib is HAMILTON:
            with pytest.raises(lib.function_modifiers.InvalidDecoratorException):
                builder.build()
        else:
            result = builder.build().execute(["scaled"], inputs={"x": pd.Series([1, 2])})
            assert result["scaled"].tolist() == [3, 6]
