"""Type helpers agree with Hamilton's on the cases Hamilton code meets."""

import typing
from typing import Annotated, Any

import pandas as pd
import pytest

from tests.parity.conftest import Library


class Base:
    pass


class Derived(Base):
    pass


@pytest.mark.parametrize(
    ("producer", "consumer", "expected"),
    [
        (Derived, Base, True),
        (Base, Derived, False),
        (Derived, Any, True),
        (Any, Derived, False),
        (Any, pd.DataFrame, False),
        (pd.DataFrame, Any, True),
        (int, typing.Union[int, str], True),  # noqa: UP007 (the typing form on purpose)
        (list[int], list, True),
        (list[int], list[float], False),
    ],
)
def test_custom_subclass_check(lib: Library, producer: Any, consumer: Any, expected: bool) -> None:
    assert lib.htypes.custom_subclass_check(producer, consumer) is expected


def test_a_node_typed_any_still_feeds_any_parameter(lib: Library) -> None:
    assert lib.htypes.types_match(Derived, Any)
    assert lib.htypes.types_match(dict, Any)

    def untyped() -> Any:
        return {"a": 1}

    def consumer(untyped: dict) -> int:
        return len(untyped)

    module = lib.ad_hoc_utils.create_temporary_module(untyped, consumer)
    assert lib.driver.Builder().with_modules(module).build().execute(["consumer"]) == {
        "consumer": 1
    }


@pytest.mark.parametrize(
    "annotated",
    [Annotated[int, "metadata"], Annotated[int, "a", "b"], Annotated[Annotated[int, "x"], "y"]],
)
def test_type_string_of_annotated_is_the_annotated_type(lib: Library, annotated: Any) -> None:
    assert lib.htypes.get_type_as_string(annotated) == "int"


@pytest.mark.parametrize("good", [int, pd.Series, Annotated[pd.Series, float]])
def test_column_annotations_accepted(good: Any) -> None:
    from cayley import htypes

    assert htypes.validate_type_annotation(good) is True


@pytest.mark.parametrize(
    "bad",
    [
        Annotated[pd.DataFrame, int],  # not a column type
        Annotated[pd.Series, dict],  # element type not a scalar
        Annotated[pd.Series, int, str],  # two element types
    ],
)
def test_column_annotations_rejected(lib: Library, bad: Any) -> None:
    with pytest.raises(lib.htypes.InvalidTypeException):
        lib.htypes.validate_type_annotation(bad)
