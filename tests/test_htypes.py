"""Type rules: which producer types may feed which parameters, and run-time input checks."""

from __future__ import annotations

import collections.abc
import typing
from typing import Annotated, Any, Literal, Optional, TypeVar, Union

import pytest

from cayley import htypes
from cayley.ad_hoc_utils import module_from_source
from cayley.driver import Builder
from cayley.htypes import Collect, Parallelizable

T = TypeVar("T")


class Base:
    pass


class Derived(Base):
    pass


class FakeSeries:
    """Stands in for ``pd.Series`` so the matrix does not need pandas."""


# (consumer annotation, producer type, compatible?) -- the rows of the reference matrix.
MATRIX = [
    pytest.param(int, bool, True, id="int<-bool"),
    pytest.param(bool, int, False, id="bool<-int"),
    pytest.param(float, int, False, id="float<-int(no numeric tower)"),
    pytest.param(list, list[int], True, id="list<-list[int]"),
    pytest.param(list[int], list, True, id="list[int]<-list"),
    pytest.param(list[str], list[int], False, id="list[str]<-list[int]"),
    pytest.param(dict[str, int], dict, True, id="dict[str,int]<-dict"),
    pytest.param(int, Optional[int], False, id="int<-Optional[int]"),  # noqa: UP045
    pytest.param(Optional[int], int, True, id="Optional[int]<-int"),  # noqa: UP045
    pytest.param(Union[int, str], str, True, id="Union[int,str]<-str"),  # noqa: UP007
    pytest.param(Any, int, True, id="Any<-int"),
    pytest.param(int, Any, True, id="int<-Any"),
    pytest.param(typing.Sequence[int], list[int], True, id="Sequence[int]<-list[int]"),  # noqa: UP006
    pytest.param(T, int, False, id="T<-int"),
    pytest.param(T, T, True, id="T<-T"),
    pytest.param(int, Parallelizable[int], True, id="int<-Parallelizable[int]"),
    pytest.param(Collect[int], int, True, id="Collect[int]<-int"),
    pytest.param(FakeSeries, Annotated[FakeSeries, int], True, id="Series<-Annotated[Series,int]"),
    pytest.param(Annotated[FakeSeries, int], FakeSeries, True, id="Annotated[Series,int]<-Series"),
    pytest.param(object, int, True, id="object<-int"),
]


@pytest.mark.parametrize(("consumer", "producer", "expected"), MATRIX)
def test_types_match_matrix(consumer: Any, producer: Any, expected: bool) -> None:
    assert htypes.types_match(consumer, producer) is expected


def test_matrix_with_real_pandas_series() -> None:
    pd = pytest.importorskip("pandas")
    assert htypes.types_match(pd.Series, Annotated[pd.Series, int])
    assert htypes.types_match(Annotated[pd.Series, int], pd.Series)
    assert not htypes.types_match(pd.DataFrame, pd.Series)


@pytest.mark.parametrize(
    ("consumer", "producer", "expected"),
    [
        (Base, Derived, True),
        (Derived, Base, False),
        (int | str, str, True),
        (int, int | None, False),
        (collections.abc.Sequence[int], list[int], True),
        (collections.abc.Mapping[str, int], dict[str, int], True),
        (dict[str, int], dict[str, str], False),
        (list[int], tuple[int], False),
        (Union[int, str], Union[int, str], True),  # noqa: UP007
        (Union[int, str, float], Union[int, str], True),  # noqa: UP007
        (Union[int, float], Union[int, str], False),  # noqa: UP007
    ],
)
def test_types_match_beyond_the_matrix(consumer: Any, producer: Any, expected: bool) -> None:
    assert htypes.types_match(consumer, producer) is expected


def test_custom_subclass_check_takes_producer_first() -> None:
    assert htypes.custom_subclass_check(Derived, Base)
    assert not htypes.custom_subclass_check(Base, Derived)
    assert htypes.custom_subclass_check(int, Collect[int])
    assert htypes.custom_subclass_check(Parallelizable[int], int)


@pytest.mark.parametrize(
    ("node_type", "value", "expected"),
    [
        (int, 1, True),
        (int, "1", False),
        (float, 1, False),  # no numeric tower at run time either
        (int, True, True),  # bool is an int
        (list[int], ["a"], True),  # shallow: only the origin is checked
        (dict[str, int], {"a": "b"}, True),
        (dict[str, int], ["a"], False),
        (Optional[int], 3, True),  # noqa: UP045
        (Union[int, str], "s", True),  # noqa: UP007
        (Union[int, str], 1.5, False),  # noqa: UP007
        (Any, object(), True),
        (T, "anything", True),
        (Literal["a", "b"], "a", True),
        (Literal["a", "b"], "c", False),
        (Annotated[int, "meta"], 3, True),
        (Annotated[int, "meta"], "3", False),
        (Collect[int], 3, True),
        (Base, Derived(), True),
        (Derived, Base(), False),
    ],
)
def test_check_input_type(node_type: Any, value: Any, expected: bool) -> None:
    assert htypes.check_input_type(node_type, value) is expected


def test_check_instance_is_deep() -> None:
    assert htypes.check_instance([1, 2], list[int])
    assert not htypes.check_instance([1, "a"], list[int])
    assert htypes.check_instance({"a": 1}, dict[str, int])
    assert not htypes.check_instance({"a": "b"}, dict[str, int])
    assert htypes.check_instance((1, "a"), tuple[int, str])
    assert not htypes.check_instance((1, 2, 3), tuple[int, str])
    assert htypes.check_instance((1, 2, 3), tuple[int, ...])
    assert htypes.check_instance(None, Optional[int])  # noqa: UP045
    assert not htypes.check_instance(None, int)


def test_fan_out_markers() -> None:
    assert htypes.is_parallelizable(Parallelizable[int])
    assert not htypes.is_parallelizable(list[int])
    assert htypes.is_collect(Collect[str])
    assert not htypes.is_collect(str)
    assert htypes.element_type(Parallelizable[int]) is int
    assert htypes.element_type(Collect[str]) is str
    assert htypes.element_type(float) is float


def test_get_type_as_string() -> None:
    assert htypes.get_type_as_string(int) == "int"
    assert htypes.get_type_as_string(Base) == f"{__name__}.Base"
    assert htypes.get_type_as_string(list[int]) == "list[int]"


# ---- the same rules applied when a graph is built -------------------------------------------


def test_edge_type_mismatch_names_both_nodes_and_both_types() -> None:
    module = module_from_source(
        """
        def producer_int() -> int:
            return 1

        def consumer(producer_int: float) -> float:
            return producer_int * 2.0
        """
    )
    with pytest.raises(ValueError, match=r"producer_int.*consumer|consumer.*producer_int") as info:
        Builder().with_modules(module).build()
    message = str(info.value)
    assert "float" in message and "int" in message
    assert "'producer_int'" in message and "'consumer'" in message


def test_compatible_edges_build_and_run() -> None:
    module = module_from_source(
        """
        from typing import Optional, Sequence, Union

        def flag() -> bool:
            return True

        def as_int(flag: int) -> int:
            return flag + 1

        def items() -> list[int]:
            return [1, 2, 3]

        def seq_total(items: Sequence[int]) -> int:
            return sum(items)

        def maybe(as_int: Optional[int], seq_total: Union[int, str]) -> int:
            return as_int + seq_total
        """
    )
    dr = Builder().with_modules(module).build()
    assert dr.execute(["maybe"]) == {"maybe": 8}


@pytest.mark.parametrize(
    ("consumer_annotation", "producer_annotation"),
    [
        ("bool", "int"),
        ("list[str]", "list[int]"),
        ("int", "Optional[int]"),
        ("T", "int"),
    ],
)
def test_incompatible_edges_are_rejected_at_build(
    consumer_annotation: str, producer_annotation: str
) -> None:
    module = module_from_source(
        f"""
        from typing import Optional, TypeVar
        T = TypeVar("T")

        def up() -> {producer_annotation}:
            return 1

        def down(up: {consumer_annotation}) -> int:
            return 1
        """
    )
    with pytest.raises(ValueError, match=r"Type mismatch between 'up' and 'down'"):
        Builder().with_modules(module).build()
