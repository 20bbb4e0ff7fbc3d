"""Decorated dataflows run end to end through the driver."""

from __future__ import annotations

import logging

import pandas as pd
import polars as pl
import pytest

from cayley import driver, settings
from cayley.data_quality.base import DataValidationError
from tests.function_modifiers.helpers import module_of

FLOW = module_of(
    """
    import typing
    import pandas as pd
    from cayley.function_modifiers import (
        ParameterizedExtract, apply_to, check_output, config, does, extract_columns,
        extract_fields, group, inject, mutate, parameterize, parameterize_extract_columns,
        parameterize_sources, parameterize_values, pipe_input, pipe_output, resolve_from_config,
        source, step, subdag, tag, unpack_fields, value, parameterized_subdag,
    )


    def _add(x: int, by: int = 1) -> int:
        return x + by


    def _sum(**kwargs: int) -> int:
        return sum(kwargs.values())


    def base_value(seed: int) -> int:
        return seed * 2


    @config.when(mode="fast")
    def speed__fast(base_value: int) -> int:
        return base_value * 100


    @config.when(mode="slow")
    def speed__slow(base_value: int) -> int:
        return base_value


    @config.default
    def speed__default(base_value: int) -> int:
        return -1


    @parameterize(plus_one={"delta": value(1)}, plus_base={"delta": source("base_value")})
    def shifted(speed: int, delta: int) -> int:
        return speed + delta


    @parameterize_values(parameter="factor", assigned_output={("times_2", ""): 2, ("times_3", ""): 3})
    def times(base_value: int, factor: int) -> int:
        return base_value * factor


    @parameterize_sources(copy_of_seed={"v": "seed"})
    def copied(v: int) -> int:
        return v


    @inject(parts=group(source("times_2"), source("times_3"), value(1000)))
    def grouped(parts: typing.List[int]) -> int:
        return sum(parts)


    @check_output(range=(0, 10_000), importance="fail", target_="col_a")
    @extract_columns("col_a", "col_b")
    def frame(base_value: int) -> pd.DataFrame:
        return pd.DataFrame({"col_a": [base_value, base_value + 1], "col_b": [0, 1]})


    @extract_fields({"name": str, "size": int})
    def record(seed: int) -> dict:
        return {"name": f"r{seed}", "size": seed}


    @unpack_fields("first", "second")
    def pair(seed: int) -> typing.Tuple[int, int]:
        return (seed, seed + 1)


    @does(_sum)
    def total(first: int, second: int, size: int) -> int:
        pass


    @pipe_input(step(_add), step(_add, by=source("seed")).named("with_seed"))
    def piped_in(base_value: int) -> int:
        return base_value


    @pipe_output(step(_add, by=value(10)))
    def piped_out(seed: int) -> int:
        return seed


    def mutated(seed: int) -> int:
        return seed


    @mutate(apply_to(mutated, by=value(5)))
    def _bump(v: int, by: int) -> int:
        return v + by


    def inner_double(inner_in: int) -> int:
        return inner_in * 2


    def inner_plus(inner_double: int, offset: int) -> int:
        return inner_double + offset


    @subdag(inner_double, inner_plus, inputs={"inner_in": source("seed"), "offset": value(7)})
    def via_subdag(inner_plus: int) -> int:
        return inner_plus


    @parameterized_subdag(
        inner_double, inner_plus, inputs={"offset": value(0)},
        sub_one={"inputs": {"inner_in": value(1)}}, sub_seed={"inputs": {"inner_in": source("seed")}},
    )
    def subdags(inner_plus: int) -> int:
        return inner_plus


    @parameterize_extract_columns(
        ParameterizedExtract(("pa", "pb"), {"s": source("series_in"), "k": value(10)}),
    )
    def scaled(s: pd.Series, k: int) -> pd.DataFrame:
        return pd.concat([s * k, s + k], axis=1)


    @resolve_from_config(
        decorate_with=lambda extra_outputs: parameterize(
            **{name: {"n": value(i)} for i, name in enumerate(extra_outputs)}
        )
    )
    def dynamic(n: int, seed: int) -> int:
        return n + seed
    """
)

CONFIG = {
    "mode": "fast",
    "extra_outputs": ["dyn_a", "dyn_b"],
    settings.ENABLE_POWER_USER_MODE: True,
}


def _run(outputs: list[str], config: dict | None = None, **inputs: object) -> dict:
    dr = driver.Builder().with_modules(FLOW).with_config(config or CONFIG).build()
    return dr.execute(outputs, inputs=inputs)


def test_decorated_dataflow() -> None:
    outputs = [
        "speed",
        "plus_one",
        "plus_base",
        "times_3",
        "copy_of_seed",
        "grouped",
        "col_a",
        "col_b",
        "name",
        "second",
        "total",
        "piped_in",
        "piped_out",
        "mutated",
        "via_subdag",
        "sub_one",
        "sub_seed",
        "pa",
        "pb",
        "dyn_a",
        "dyn_b",
    ]
    results = _run(outputs, seed=3, series_in=pd.Series([1, 2]))
    assert results["speed"] == 600
    assert results["plus_one"] == 601
    assert results["plus_base"] == 606
    assert results["times_3"] == 18
    assert results["copy_of_seed"] == 3
    assert results["grouped"] == 12 + 18 + 1000
    assert results["col_a"].tolist() == [6, 7]
    assert results["col_b"].tolist() == [0, 1]
    assert results["name"] == "r3"
    assert results["second"] == 4
    assert results["total"] == 3 + 4 + 3
    assert results["piped_in"] == 6 + 1 + 3
    assert results["piped_out"] == 13
    assert results["mutated"] == 8
    assert results["via_subdag"] == 13
    assert results["sub_one"] == 2
    assert results["sub_seed"] == 6
    assert results["pa"].tolist() == [10, 20]
    assert results["pb"].tolist() == [11, 12]
    assert (results["dyn_a"], results["dyn_b"]) == (3, 4)


def test_config_variants_and_default() -> None:
    assert _run(["speed"], {**CONFIG, "mode": "slow"}, seed=1)["speed"] == 2
    assert _run(["speed"], {**CONFIG, "mode": "other"}, seed=1)["speed"] == -1


def test_intermediate_decorator_nodes_are_addressable() -> None:
    results = _run(
        [
            "col_a_raw",
            "col_a_range_validator",
            "piped_out.raw",
            "mutated.with_bump",
            "via_subdag.inner_plus",
        ],
        seed=3,
    )
    assert results["col_a_range_validator"].passes
    assert results["piped_out.raw"] == 3
    assert results["mutated.with_bump"] == 8
    assert results["via_subdag.inner_plus"] == 13


def test_failing_validation_stops_the_run() -> None:
    with pytest.raises(DataValidationError, match=r"\[col_a:range_validator\]"):
        _run(["col_a"], seed=10_000)


def test_warning_validation_logs(caplog: pytest.LogCaptureFixture) -> None:
    module = module_of(
        """
        from cayley.function_modifiers import check_output

        @check_output(range=(0, 1))
        def ratio(x: float) -> float:
            return x
        """
    )
    dr = driver.Builder().with_modules(module).build()
    with caplog.at_level(logging.WARNING):
        assert dr.execute(["ratio"], inputs={"x": 5.0})["ratio"] == 5.0
    assert "[ratio:range_validator] validator failed" in caplog.text


def test_polars_columns() -> None:
    module = module_of(
        """
        import polars as pl
        from cayley.function_modifiers import extract_columns

        @extract_columns("a", "b", fill_with=0)
        def frame(n: int) -> pl.DataFrame:
            return pl.DataFrame({"a": list(range(n))})

        def a_sum(a: pl.Series, b: pl.Series) -> int:
            return int(a.sum() + b.sum())
        """
    )
    dr = driver.Builder().with_modules(module).build()
    results = dr.execute(["a_sum", "a"], inputs={"n": 4})
    assert results["a_sum"] == 6
    assert isinstance(results["a"], pl.Series)
