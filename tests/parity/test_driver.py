"""Driver behaviour Hamilton code relies on: outputs, tag filters, variables, graph views."""

from typing import Any

import pandas as pd
import pytest

from tests.parity.conftest import Library


def _chain(lib: Library) -> Any:
    def b(a: int) -> int:
        return a + 1

    def c(b: int) -> int:
        return b * 2

    return lib.ad_hoc_utils.create_temporary_module(b, c)


def test_an_input_that_is_no_node_can_be_requested(lib: Library) -> None:
    dr = lib.driver.Builder().with_modules(_chain(lib)).build()
    assert dr.execute(["c", "extra", "a"], inputs={"a": 1, "extra": [7]}) == {
        "c": 4,
        "extra": [7],
        "a": 1,
    }
    dr.validate_execution(["c", "extra"], inputs={"a": 1, "extra": 7})
    with pytest.raises(ValueError):
        dr.execute(["c", "missing"], inputs={"a": 1})


def test_a_requested_extra_input_goes_through_the_result_builder(lib: Library) -> None:
    def c(a: pd.Series) -> pd.Series:
        return (a + 1) * 2

    dr = (
        lib.driver.Builder()
        .with_modules(lib.ad_hoc_utils.create_temporary_module(c))
        .with_adapters(lib.base.PandasDataFrameResult())
        .build()
    )
    frame = dr.execute(["c", "e"], inputs={"a": pd.Series([1, 2]), "e": pd.Series([5, 6])})
    pd.testing.assert_frame_equal(frame, pd.DataFrame({"c": [4, 6], "e": [5, 6]}))


def test_a_requested_extra_input_reaches_the_hooks(lib: Library) -> None:
    seen: dict[str, Any] = {}
    api = lib.module("lifecycle.api")

    class Hook(api.GraphExecutionHook):
        def run_before_graph_execution(self, *, final_vars, **kwargs):
            seen["final_vars"] = list(final_vars)

        def run_after_graph_execution(self, *, results, **kwargs):
            seen["results"] = results

    dr = lib.driver.Builder().with_modules(_chain(lib)).with_adapters(Hook()).build()
    dr.execute(["c", "e"], inputs={"a": 1, "e": 3})
    assert seen == {"final_vars": ["c", "e"], "results": {"c": 4, "e": 3}}


def test_cayley_async_driver_returns_requested_extra_inputs() -> None:
    """Hamilton's async driver fails with KeyError here; cayley treats both drivers alike."""
    import asyncio

    from tests.parity.conftest import Library

    lib = Library("cayley")

    async def go() -> dict:
        dr = await lib.async_driver.Builder().with_modules(_chain(lib)).build()
        return await dr.execute(["c", "e"], inputs={"a": 1, "e": 3})

    assert asyncio.run(go()) == {"c": 4, "e": 3}


def _tagged(lib: Library) -> Any:
    fm = lib.function_modifiers

    @fm.tag(team="a")
    def one() -> int:
        return 1

    @fm.tag(team="b", regions=["us", "uk"])
    def two(one: int) -> int:
        return one + 1

    return lib.ad_hoc_utils.create_temporary_module(one, two)


@pytest.mark.parametrize(
    ("tag_filter", "expected"),
    [
        ({"team": "a"}, {"one"}),
        ({"team": ["a", "b"]}, {"one", "two"}),
        ({"regions": "uk"}, {"two"}),
        ({"regions": None}, {"two"}),
        ({"team": "b", "regions": ["fr", "us"]}, {"two"}),
        ({"absent": "x"}, set()),
    ],
)
def test_tag_filters(lib: Library, tag_filter: dict, expected: set) -> None:
    dr = lib.driver.Builder().with_modules(_tagged(lib)).build()
    assert {v.name for v in dr.list_available_variables(tag_filter=tag_filter)} == expected


@pytest.mark.parametrize("bad", [{"team": 1234}, {"team": []}, {"absent": 5}])
def test_tag_filter_values_are_checked_before_matching(lib: Library, bad: dict) -> None:
    dr = lib.driver.Builder().with_modules(_tagged(lib)).build()
    with pytest.raises(ValueError):
        dr.list_available_variables(tag_filter=bad)


def test_an_input_variable_names_the_functions_consuming_it(lib: Library) -> None:
    def uses_x(x: int) -> int:
        return x

    module = lib.ad_hoc_utils.create_temporary_module(uses_x)
    dr = lib.driver.Builder().with_modules(module).build()
    variables = {v.name: v for v in dr.list_available_variables()}
    (origin,) = variables["x"].originating_functions
    assert origin.__name__ == "uses_x"
    assert variables["x"].is_external_input
    assert variables["uses_x"].originating_functions == variables["x"].originating_functions


def test_cayley_input_variable_lists_every_consumer() -> None:
    from cayley import ad_hoc_utils, driver

    def first(x: int) -> int:
        return x

    def second(x: int) -> int:
        return -x

    dr = driver.Builder().with_modules(ad_hoc_utils.create_temporary_module(first, second))
    variables = {v.name: v for v in dr.build().list_available_variables()}
    assert [f.__name__ for f in variables["x"].originating_functions] == ["first", "second"]


def test_graph_view_filters_nodes_by_keyword(lib: Library) -> None:
    dr = lib.driver.Builder().with_modules(_tagged(lib)).build()
    view = lib.graph_types.HamiltonGraph.from_graph(dr.graph)
    picked = view.filter_nodes(filter=lambda n: n.tags.get("team") == "b")
    assert [n.name for n in picked] == ["two"]
    assert view["one"].tags["team"] == "a"
