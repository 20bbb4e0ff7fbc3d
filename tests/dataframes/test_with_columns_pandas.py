"""``h_pandas.with_columns``: generated nodes, every argument, results and error paths."""

from __future__ import annotations

import pandas as pd
import polars as pl
import pytest

from cayley import ad_hoc_utils, driver
from cayley.function_modifiers import InvalidDecoratorException, config
from cayley.function_modifiers.base import MissingConfigParametersException, resolve_nodes
from cayley.function_modifiers.with_columns import GROUP_TAG, MissingColumnError
from cayley.htypes import Collect, Parallelizable
from cayley.plugins.h_pandas import with_columns

COLUMNS = ad_hoc_utils.module_from_source(
    """
import pandas as pd

def a_plus_b(a: pd.Series, b: pd.Series) -> pd.Series:
    return a + b

def scaled(a_plus_b: pd.Series, factor: float) -> pd.Series:
    return a_plus_b * factor

def total(a: pd.Series) -> float:
    return float(a.sum())
"""
)


def frame() -> pd.DataFrame:
    return pd.DataFrame({"a": [1, 2, 3], "b": [10, 20, 30], "c": ["x", "y", "z"]})


def build(*functions, config_: dict | None = None) -> driver.Driver:
    module = ad_hoc_utils.create_temporary_module(*functions)
    return driver.Builder().with_modules(module).with_config(config_ or {}).build()


def deps(dr: driver.Driver) -> dict[str, list[str]]:
    return {v.name: sorted(v.required_dependencies) for v in dr.list_available_variables()}


def test_columns_to_pass_from_module_names_nodes_like_hamilton() -> None:
    @with_columns(COLUMNS, columns_to_pass=["a", "b"])
    def final(initial: pd.DataFrame) -> pd.DataFrame:
        return initial

    dr = build(final)
    assert deps(dr) == {
        "final": ["final._append"],
        "final.a": ["initial"],
        "final.b": ["initial"],
        "final.a_plus_b": ["final.a", "final.b"],
        "final.scaled": ["factor", "final.a_plus_b"],
        "final.total": ["final.a"],  # kept without select, though not a column
        "final._append": ["final.a", "final.a_plus_b", "final.b", "final.scaled", "initial"],
        "initial": [],
        "factor": [],
    }
    nodes = {v.name: v for v in dr.list_available_variables()}
    assert nodes["final.a_plus_b"].tags["hamilton.non_final_node"] is True
    assert nodes["final.a"].tags == {GROUP_TAG: "final"}
    assert nodes["final._append"].type is pd.DataFrame
    assert "final" not in {n for n, v in nodes.items() if GROUP_TAG in v.tags}
    result = dr.execute(["final"], inputs={"initial": frame(), "factor": 2.0})["final"]
    expected = frame().assign(a_plus_b=[11, 22, 33], scaled=[22.0, 44.0, 66.0])
    pd.testing.assert_frame_equal(result, expected)


def test_select_builds_only_what_is_needed_and_keeps_the_input_untouched() -> None:
    @with_columns(COLUMNS, columns_to_pass=["a", "b"], select=["scaled"])
    def final(initial: pd.DataFrame) -> pd.DataFrame:
        return initial

    dr = build(final)
    assert "final.total" not in deps(dr)
    assert deps(dr)["final._append"] == ["final.scaled", "initial"]
    original = frame()
    result = dr.execute(["final"], inputs={"initial": original, "factor": 0.5})["final"]
    assert list(result.columns) == ["a", "b", "c", "scaled"]
    assert result["scaled"].tolist() == [5.5, 11.0, 16.5]
    assert list(original.columns) == ["a", "b", "c"]


def test_selected_scalar_is_broadcast() -> None:
    @with_columns(COLUMNS, columns_to_pass=["a", "b"], select=["total", "a_plus_b"])
    def final(initial: pd.DataFrame) -> pd.DataFrame:
        return initial

    result = build(final).execute(["final"], inputs={"initial": frame()})["final"]
    assert result["total"].tolist() == [6.0, 6.0, 6.0]
    assert result["a_plus_b"].tolist() == [11, 22, 33]


def test_functions_given_directly_and_namespace() -> None:
    def doubled(a: pd.Series) -> pd.Series:
        return a * 2

    def shifted(doubled: pd.Series, b: pd.Series) -> pd.Series:
        return doubled + b

    @with_columns(doubled, shifted, columns_to_pass=["a", "b"], namespace="feat")
    def final(initial: pd.DataFrame, offset: int) -> pd.DataFrame:
        return initial.assign(o=offset)

    dr = build(final)
    assert {n for n in deps(dr) if n.startswith("feat.")} == {
        "feat.a",
        "feat.b",
        "feat.doubled",
        "feat.shifted",
        "feat._append",
    }
    assert deps(dr)["final"] == ["feat._append", "offset"]
    result = dr.execute(["final"], inputs={"initial": frame(), "offset": 7})["final"]
    assert result["shifted"].tolist() == [12, 24, 36]
    assert result["o"].tolist() == [7, 7, 7]


def test_on_input_reads_the_frame_and_replaces_columns() -> None:
    def a(initial: pd.DataFrame) -> pd.Series:
        return initial["a"] * 100

    def a_plus_b(a: pd.Series, initial: pd.DataFrame) -> pd.Series:
        return a + initial["b"]

    @with_columns(a, a_plus_b, on_input="initial", select=["a", "a_plus_b"])
    def final(other: int, initial: pd.DataFrame) -> pd.DataFrame:
        return initial.assign(other=other)

    dr = build(final)
    assert deps(dr)["final.a"] == ["initial"]
    assert deps(dr)["final"] == ["final._append", "other"]
    result = dr.execute(["final"], inputs={"initial": frame(), "other": 1})["final"]
    assert result["a"].tolist() == [100, 200, 300]
    assert result["a_plus_b"].tolist() == [110, 220, 330]
    assert list(result.columns) == ["a", "b", "c", "a_plus_b", "other"]


def test_pass_dataframe_as_names_the_frame_for_the_functions() -> None:
    def ratio(df: pd.DataFrame) -> pd.Series:
        return df["b"] / df["a"]

    @with_columns(ratio, pass_dataframe_as="df")
    def final(initial: pd.DataFrame) -> pd.DataFrame:
        return initial

    dr = build(final)
    assert deps(dr)["final.df"] == ["initial"]
    assert deps(dr)["final.ratio"] == ["final.df"]
    result = dr.execute(["final"], inputs={"initial": frame()})["final"]
    assert result["ratio"].tolist() == [10.0, 10.0, 10.0]


def test_columns_to_pass_with_on_input_picks_another_parameter() -> None:
    @with_columns(COLUMNS, columns_to_pass=["a", "b"], on_input="second", select=["a_plus_b"])
    def final(first: pd.DataFrame, second: pd.DataFrame) -> pd.DataFrame:
        return second.assign(n=len(first))

    dr = build(final)
    assert deps(dr)["final.a"] == ["second"]
    result = dr.execute(["final"], inputs={"first": frame().head(1), "second": frame()})
    assert result["final"]["a_plus_b"].tolist() == [11, 22, 33]
    assert result["final"]["n"].tolist() == [1, 1, 1]


def test_config_required_resolves_config_dependent_functions() -> None:
    @config.when(mode="sum")
    def combined__sum(a: pd.Series, b: pd.Series) -> pd.Series:
        return a + b

    @config.when(mode="product")
    def combined__product(a: pd.Series, b: pd.Series) -> pd.Series:
        return a * b

    @with_columns(
        combined__sum, combined__product, columns_to_pass=["a", "b"], config_required=["mode"]
    )
    def final(initial: pd.DataFrame) -> pd.DataFrame:
        return initial

    for mode, expected in (("sum", [11, 22, 33]), ("product", [10, 40, 90])):
        dr = build(final, config_={"mode": mode})
        result = dr.execute(["final"], inputs={"initial": frame()})["final"]
        assert result["combined"].tolist() == expected
    with pytest.raises(MissingConfigParametersException, match="mode"):
        build(final)


def test_default_select_is_computed_per_build() -> None:
    @config.when(extra=True)
    def bonus(a: pd.Series) -> pd.Series:
        return a + 0.5

    def base_col(a: pd.Series) -> pd.Series:
        return a

    @with_columns(bonus, base_col, columns_to_pass=["a"])
    def final(initial: pd.DataFrame) -> pd.DataFrame:
        return initial

    with_bonus = build(final, config_={"extra": True}).execute(
        ["final"], inputs={"initial": frame()}
    )
    assert "bonus" in with_bonus["final"].columns
    without = build(final, config_={"extra": False}).execute(["final"], inputs={"initial": frame()})
    assert "bonus" not in without["final"].columns and "base_col" in without["final"].columns


def test_same_module_reused_under_two_namespaces() -> None:
    @with_columns(COLUMNS, columns_to_pass=["a", "b"], select=["a_plus_b"])
    def left(initial: pd.DataFrame) -> pd.DataFrame:
        return initial

    @with_columns(COLUMNS, columns_to_pass=["a", "b"], select=["a_plus_b"], namespace="r")
    def right(initial: pd.DataFrame) -> pd.DataFrame:
        return initial * 1

    result = build(left, right).execute(["left", "right"], inputs={"initial": frame()[["a", "b"]]})
    assert result["left"]["a_plus_b"].tolist() == result["right"]["a_plus_b"].tolist()


def test_index_alignment_follows_pandas() -> None:
    def shifted(a: pd.Series) -> pd.Series:
        return a.shift(1)

    @with_columns(shifted, columns_to_pass=["a"])
    def final(initial: pd.DataFrame) -> pd.DataFrame:
        return initial

    indexed = frame().set_index(pd.Index([5, 6, 7]))
    result = build(final).execute(["final"], inputs={"initial": indexed})["final"]
    assert result.index.tolist() == [5, 6, 7]
    assert result["shifted"].tolist()[1:] == [1.0, 2.0]


def test_missing_column_at_run_time_names_it() -> None:
    @with_columns(COLUMNS, columns_to_pass=["a", "b"], select=["a_plus_b"])
    def final(initial: pd.DataFrame) -> pd.DataFrame:
        return initial

    with pytest.raises(MissingColumnError) as info:
        build(final).execute(["final"], inputs={"initial": frame()[["a", "c"]]})
    message = str(info.value)
    assert "'b'" in message and "'final'" in message and "['a', 'c']" in message


# ---- errors found when decorating or building ---------------------------------------------
def _decorate(**kwargs):
    def final(initial: pd.DataFrame, other: int) -> pd.DataFrame:
        return initial

    return with_columns(COLUMNS, **kwargs)(final)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "columns_to_pass"),
        ({"columns_to_pass": "a"}, r"columns_to_pass=\['a'\]"),
        ({"columns_to_pass": []}, "empty"),
        ({"columns_to_pass": ["a", "a"]}, "more than once"),
        ({"columns_to_pass": ["a"], "select": "a_plus_b"}, "select takes a list"),
        ({"columns_to_pass": ["a"], "select": [1]}, "names"),
        ({"on_input": "missing"}, "not a parameter"),
        ({"on_input": "other"}, "annotated int"),
        ({"columns_to_pass": ["a"], "namespace": ""}, "namespace"),
    ],
)
def test_bad_arguments_are_rejected_when_decorating(kwargs: dict, message: str) -> None:
    with pytest.raises(InvalidDecoratorException, match=message):
        _decorate(**kwargs)


def test_no_functions_and_no_parameters_are_rejected() -> None:
    with pytest.raises(InvalidDecoratorException, match="at least one module or function"):
        with_columns(columns_to_pass=["a"])
    with pytest.raises(InvalidDecoratorException, match="no parameters"):

        @with_columns(COLUMNS, columns_to_pass=["a"])
        def final() -> pd.DataFrame:
            return pd.DataFrame()


def test_polars_frame_parameter_is_rejected_by_the_pandas_variant() -> None:
    with pytest.raises(InvalidDecoratorException, match="h_polars"):

        @with_columns(COLUMNS, columns_to_pass=["a"])
        def final(initial: pl.DataFrame) -> pl.DataFrame:
            return initial


def test_build_errors_name_the_problem() -> None:
    def a(initial: pd.DataFrame) -> pd.Series:
        return initial["a"]

    @with_columns(a, COLUMNS, columns_to_pass=["a", "b"])
    def duplicated(initial: pd.DataFrame) -> pd.DataFrame:
        return initial

    with pytest.raises(InvalidDecoratorException, match=r"\['a'\] are produced twice"):
        resolve_nodes(duplicated, {})

    @with_columns(COLUMNS, columns_to_pass=["a", "b"], select=["nope", "a_plus_b"])
    def unknown(initial: pd.DataFrame) -> pd.DataFrame:
        return initial

    with pytest.raises(InvalidDecoratorException, match=r"select names \['nope'\]"):
        resolve_nodes(unknown, {})

    def _append(a: pd.Series) -> pd.Series:
        return a

    @with_columns(_append, columns_to_pass=["a"])
    def reserved(initial: pd.DataFrame) -> pd.DataFrame:
        return initial

    with pytest.raises(InvalidDecoratorException, match="_append"):
        resolve_nodes(reserved, {})


def test_mistyped_column_function_is_a_graph_error() -> None:
    def wrong(a: int) -> pd.Series:
        return pd.Series([a])

    @with_columns(wrong, columns_to_pass=["a"])
    def final(initial: pd.DataFrame) -> pd.DataFrame:
        return initial

    with pytest.raises(ValueError, match="final.a"):
        build(final)


def test_stacks_with_check_output_on_the_result() -> None:
    from cayley.data_quality.base import DataValidationError
    from cayley.function_modifiers import check_output

    def positive(a: pd.Series) -> pd.Series:
        return a - 2

    @check_output(range=(0, 100), importance="fail", target_="final")
    @with_columns(positive, columns_to_pass=["a"])
    def final(initial: pd.DataFrame) -> pd.Series:
        return initial["positive"]

    dr = build(final)
    good = frame().assign(a=[5, 6, 7])
    assert dr.execute(["final"], inputs={"initial": good})["final"].tolist() == [3, 4, 5]
    with pytest.raises(DataValidationError, match="final:range_validator"):
        dr.execute(["final"], inputs={"initial": frame()})


def _cluster_body(source: str, label: str) -> str:
    start = source.index(f'label="{label}"')
    return source[start : source.index("}", start)]


def test_drawings_group_the_sub_dataflow() -> None:
    @with_columns(COLUMNS, columns_to_pass=["a", "b"], select=["a_plus_b"])
    def final(initial: pd.DataFrame) -> pd.DataFrame:
        return initial

    source = build(final).display_all_functions().source
    body = _cluster_body(source, "with_columns: final")
    for name in ("final.a", "final.b", "final.a_plus_b", "final._append"):
        assert f'"{name}"' in body
    assert "final [" not in body and "initial" not in body

    def piece(initial: pd.DataFrame) -> Parallelizable[pd.DataFrame]:
        yield initial

    @with_columns(COLUMNS, columns_to_pass=["a", "b"], select=["a_plus_b"])
    def per_piece(piece: pd.DataFrame) -> pd.DataFrame:
        return piece

    def joined(per_piece: Collect[pd.DataFrame]) -> pd.DataFrame:
        return pd.concat(per_piece)

    module = ad_hoc_utils.create_temporary_module(piece, per_piece, joined)
    dr = (
        driver.Builder()
        .with_modules(module)
        .enable_dynamic_execution(allow_experimental_mode=True)
        .build()
    )
    source = dr.display_all_functions().source
    block = source[source.index("subgraph cluster_block_piece") :]
    assert block.index('label="each item of piece"') < block.index(
        'label="with_columns: per_piece"'
    )
    assert '"per_piece._append"' in _cluster_body(source, "with_columns: per_piece")


def test_hamilton_style_subclass_for_another_frame_type() -> None:
    """A subclass overriding Hamilton's hooks (here for dicts of lists) works unchanged."""
    import typing

    from cayley.function_modifiers.recursive import with_columns_base
    from cayley.node import Node

    class dict_columns(with_columns_base):
        def __init__(self, *fns, columns_to_pass):
            super().__init__(*fns, columns_to_pass=columns_to_pass, dataframe_type=dict)

        def validate(self, fn):
            with_columns_base.validate_dataframe(fn, "frame", typing.get_type_hints(fn), dict)

        def get_initial_nodes(self, fn, params):
            def reader(column):
                return lambda frame: frame[column]

            nodes = [
                Node(c, list, callabl=reader(c), input_types={"frame": dict})
                for c in self.initial_schema
            ]
            return "frame", nodes

        def chain_subdag_nodes(self, fn, inject_parameter, generated_nodes):
            assert not with_columns_base.contains_duplicates(generated_nodes)
            added = [n.name for n in generated_nodes if n.name not in self.initial_schema]

            def merge(**kwargs):
                return {**kwargs[inject_parameter], **{name: kwargs[name] for name in added}}

            inputs = {inject_parameter: dict, **{name: list for name in added}}
            return [*generated_nodes, Node("_append", dict, callabl=merge, input_types=inputs)], (
                "_append"
            )

    def doubled(a: list) -> list:
        return [2 * v for v in a]

    @dict_columns(doubled, columns_to_pass=["a"])
    def final(frame: dict) -> dict:
        return frame

    result = build(final).execute(["final"], inputs={"frame": {"a": [1, 2]}})
    assert result["final"] == {"a": [1, 2], "doubled": [2, 4]}
    with pytest.raises(InvalidDecoratorException, match="annotated builtins.list|annotated list"):

        @dict_columns(doubled, columns_to_pass=["a"])
        def wrong(frame: list) -> dict:
            return {}
