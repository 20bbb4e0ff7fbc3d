"""@extract_columns (pandas, polars), @extract_fields, @unpack_fields."""

from __future__ import annotations

import typing
from typing import Any, TypedDict

import pandas as pd
import polars as pl
import pytest

from cayley.function_modifiers import (
    InvalidDecoratorException,
    base,
    check_output,
    config,
    dataframes,
    extract_columns,
    extract_fields,
    tag,
    unpack_fields,
)
from cayley.function_modifiers.dataframes import (
    column_type_of,
    is_dataframe_type,
    register_dataframe_type,
    registered_dataframe_types,
)
from cayley.node import DependencyType
from tests.function_modifiers.helpers import nodes_of, user_tags

R = DependencyType.REQUIRED


def test_extract_columns_pandas() -> None:
    @extract_columns("col_a", ("col_b", "doc of b"))
    def frame(x: int) -> pd.DataFrame:
        """frame doc"""
        return pd.DataFrame({"col_a": [x], "col_b": [2 * x]})

    nodes = nodes_of(frame)
    assert list(nodes) == ["frame", "col_a", "col_b"]
    assert nodes["frame"].type is pd.DataFrame
    assert nodes["col_a"].type is pd.Series
    assert nodes["col_a"].input_types == {"frame": (pd.DataFrame, R)}
    assert nodes["col_a"].documentation == "frame doc"
    assert nodes["col_b"].documentation == "doc of b"
    df = nodes["frame"].callable(x=3)
    assert nodes["col_b"].callable(frame=df).tolist() == [6]
    with pytest.raises(InvalidDecoratorException, match="No such column: col_a produced by frame"):
        nodes["col_a"].callable(frame=pd.DataFrame({"z": [1]}))


def test_extract_columns_fill_with() -> None:
    @extract_columns("a", "b", fill_with=0)
    def frame() -> pd.DataFrame:
        return pd.DataFrame({"a": [1, 2]})

    nodes = nodes_of(frame)
    df = nodes["frame"].callable()
    assert nodes["b"].callable(frame=df).tolist() == [0, 0]


def test_extract_columns_polars() -> None:
    @extract_columns("a", "b", fill_with=7)
    def frame() -> pl.DataFrame:
        return pl.DataFrame({"a": [1, 2]})

    nodes = nodes_of(frame)
    assert nodes["a"].type is pl.Series
    df = nodes["frame"].callable()
    assert nodes["a"].callable(frame=df).to_list() == [1, 2]
    assert nodes["b"].callable(frame=df).to_list() == [7, 7]


def test_extract_columns_polars_lazyframe() -> None:
    @extract_columns("a")
    def lazy() -> pl.LazyFrame:
        return pl.DataFrame({"a": [1, 2]}).lazy()

    nodes = nodes_of(lazy)
    assert nodes["a"].type is pl.Expr
    expr = nodes["a"].callable(lazy=nodes["lazy"].callable())
    assert pl.DataFrame({"a": [5]}).select(expr).to_series().to_list() == [5]


def test_extract_columns_stacked() -> None:
    @tag(owner="me", target_="col")
    @check_output(range=(0, 10), target_="col")
    @extract_columns("col", "other")
    @config.when(on=True)
    def frame__on() -> pd.DataFrame:
        return pd.DataFrame({"col": [1], "other": [2]})

    nodes = nodes_of(frame__on, {"on": True})
    assert set(nodes) == {"frame", "col", "col_raw", "col_range_validator", "other"}
    assert user_tags(nodes["col"]) == {"owner": "me", "hamilton.config": "on"}
    assert user_tags(nodes["other"]) == {"hamilton.config": "on"}


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: extract_columns(), "at least one column"),
        (lambda: extract_columns(["a", "b"]), r"unpack the list with `\*`"),
        (lambda: extract_columns("a", "a"), r"lists column\(s\) \['a'\] more than once"),
        (lambda: extract_columns(3), "names or \\(name, docstring\\) pairs"),
    ],
)
def test_extract_columns_constructor_misuse(make, message: str) -> None:  # noqa: ANN001
    with pytest.raises(InvalidDecoratorException, match=message):
        make()


def test_extract_columns_on_non_dataframe() -> None:
    with pytest.raises(
        InvalidDecoratorException,
        match=r"@extract_columns on function .*not_a_frame: the function returns int, which is "
        "not a known dataframe type",
    ):

        @extract_columns("a")
        def not_a_frame() -> int:
            return 1


def test_extract_columns_needs_single_sink() -> None:
    from cayley.function_modifiers import parameterize, value

    @extract_columns("a")
    @parameterize(f1={"x": value(1)}, f2={"x": value(2)})
    def frame(x: int) -> pd.DataFrame:
        return pd.DataFrame({"a": [x]})

    with pytest.raises(InvalidDecoratorException, match="applies to a single node.*f1, f2"):
        base.resolve_nodes(frame, {})


class Table:
    """A minimal dataframe-like type."""

    def __init__(self, data: dict) -> None:
        self.data = data
        self.columns = list(data)

    def __getitem__(self, key: str) -> list:
        return self.data[key]


def test_dataframe_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dataframes, "_KINDS", list(dataframes._KINDS))
    assert is_dataframe_type(pd.DataFrame)
    assert is_dataframe_type(typing.Annotated[pd.DataFrame, "x"])
    assert not is_dataframe_type(int)
    assert column_type_of(pl.DataFrame) is pl.Series
    assert column_type_of(list[int]) is None
    assert pd.DataFrame in registered_dataframe_types().values()

    register_dataframe_type(Table, list)

    @extract_columns("a")
    def table() -> Table:
        return Table({"a": [1]})

    nodes = nodes_of(table)
    assert nodes["a"].type is list
    assert nodes["a"].callable(table=nodes["table"].callable()) == [1]


class Record(TypedDict):
    a: int
    b: str


def test_extract_fields_dict() -> None:
    @extract_fields({"f1": int, "f2": str})
    def fields(x: int) -> dict:
        """doc"""
        return {"f1": x, "f2": "s"}

    nodes = nodes_of(fields)
    assert list(nodes) == ["fields", "f1", "f2"]
    assert (nodes["f1"].type, nodes["f2"].type) == (int, str)
    assert nodes["f1"].input_types == {"fields": (dict, R)}
    assert nodes["f2"].documentation == "doc"
    assert nodes["f1"].callable(fields={"f1": 4, "f2": "s"}) == 4
    with pytest.raises(InvalidDecoratorException, match="No such field: f2 produced by fields"):
        nodes["f2"].callable(fields={"f1": 1})


def test_extract_fields_generic_dict_and_list() -> None:
    @extract_fields(["a", "b"])
    def generic() -> dict[str, float]:
        return {"a": 1.0, "b": 2.0}

    @extract_fields("a", "b")
    def single_names() -> dict[str, int]:
        return {"a": 1, "b": 2}

    nodes = nodes_of(generic)
    assert (nodes["a"].type, nodes["b"].type) == (float, float)
    assert set(nodes_of(single_names)) == {"single_names", "a", "b"}


def test_extract_fields_typeddict() -> None:
    @extract_fields()
    def everything() -> Record:
        return {"a": 1, "b": "x"}

    @extract_fields(["b"])
    def subset() -> Record:
        return {"a": 1, "b": "x"}

    @extract_fields({"a": int})
    def typed_subset() -> Record:
        return {"a": 1, "b": "x"}

    assert {n: v.type for n, v in nodes_of(everything).items()} == {
        "everything": Record,
        "a": int,
        "b": str,
    }
    assert set(nodes_of(subset)) == {"subset", "b"}
    assert set(nodes_of(typed_subset)) == {"typed_subset", "a"}


def test_extract_fields_fill_with() -> None:
    @extract_fields({"a": int, "b": int}, fill_with=0)
    def partial() -> dict:
        return {"a": 1}

    nodes = nodes_of(partial)
    record = nodes["partial"].callable()
    assert record == {"a": 1, "b": 0}
    assert nodes["b"].callable(partial=record) == 0


@pytest.mark.parametrize(
    ("fields", "annotation", "message"),
    [
        (["a"], dict, "bare dict, so @extract_fields needs a dict"),
        (None, dict[str, int], "needs the field names"),
        (["a"], int, "needs a function returning dict"),
        (["zz"], Record, "'zz' is not a field of Record"),
        ({"a": str}, Record, "field 'a' is declared int in Record, not str"),
        ({"a": "int"}, dict, "field 'a' has 'int' instead of a type"),
        ({}, dict, "at least one field"),
        ({1: int}, dict, "field name 1 is not a string"),
    ],
)
def test_extract_fields_misuse(fields: Any, annotation: Any, message: str) -> None:
    def fn() -> int:
        return 1

    fn.__annotations__["return"] = annotation
    with pytest.raises(InvalidDecoratorException, match=message):
        extract_fields(fields)(fn)


def test_extract_fields_repeated_name() -> None:
    with pytest.raises(InvalidDecoratorException, match="more than once"):
        extract_fields(["a", "a"])


def test_unpack_fields() -> None:
    @unpack_fields("u1", "u2")
    def tup(x: int) -> tuple[int, str, float]:
        return (x, "a", 2.0)

    @unpack_fields("a", "b", "c")
    def homogeneous() -> tuple[int, ...]:
        return (1, 2, 3)

    nodes = nodes_of(tup)
    assert list(nodes) == ["tup", "u1", "u2"]
    assert (nodes["u1"].type, nodes["u2"].type) == (int, str)
    assert nodes["u2"].input_types == {"tup": (tuple[int, str, float], R)}
    assert nodes["u2"].callable(tup=(1, "z", 3.0)) == "z"
    with pytest.raises(InvalidDecoratorException, match="Out of bounds field: 1"):
        nodes["u2"].callable(tup=(1,))
    assert [n.type for n in nodes_of(homogeneous).values()][1:] == [int, int, int]


@pytest.mark.parametrize(
    ("fields", "annotation", "message"),
    [
        (("a",), list[int], "needs a function returning a tuple type"),
        (("a", "b"), tuple[int], "unpacks 2 fields but the return type"),
        (("a",), tuple[int, ..., str], "'...' may only follow a single element type"),
        (("a",), tuple[3, int], "tuple elements without a valid type"),
    ],
)
def test_unpack_fields_misuse(fields: tuple, annotation: Any, message: str) -> None:
    def fn() -> int:
        return 1

    fn.__annotations__["return"] = annotation
    with pytest.raises(InvalidDecoratorException, match=message):
        unpack_fields(*fields)(fn)


def test_unpack_fields_constructor_misuse() -> None:
    with pytest.raises(InvalidDecoratorException, match="one or more field names"):
        unpack_fields()
    with pytest.raises(InvalidDecoratorException, match="more than once"):
        unpack_fields("a", "a")
