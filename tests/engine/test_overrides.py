"""Overrides that name no node warn, naming the closest nodes (Hamilton ignores them)."""

from __future__ import annotations

import warnings

import pytest

from cayley import ad_hoc_utils, driver

SOURCE = """
def doubled(x: int) -> int:
    return 2 * x

def tripled(x: int) -> int:
    return 3 * x

def total(doubled: int, tripled: int) -> int:
    return doubled + tripled
"""


@pytest.fixture
def dr():
    return driver.Builder().with_modules(ad_hoc_utils.module_from_source(SOURCE)).build()


def test_a_misspelt_override_warns_with_the_closest_names(dr):
    with pytest.warns(UserWarning) as caught:
        result = dr.execute(["total"], inputs={"x": 1}, overrides={"dubled": 100})
    assert result == {"total": 5}  # the override replaced nothing
    (warning,) = [w for w in caught if "override" in str(w.message)]
    message = str(warning.message)
    assert "'dubled' names no node of the graph" in message
    assert "closest node names: 'doubled'" in message
    assert warning.filename == __file__  # points at the caller's line


def test_every_unknown_override_is_listed_and_known_ones_apply(dr):
    with pytest.warns(UserWarning, match=r"2 override\(s\)") as caught:
        result = dr.execute(
            ["total"], inputs={"x": 1}, overrides={"doubled": 10, "trippled": 0, "zzz": 1}
        )
    assert result == {"total": 13}
    message = str(caught[0].message)
    assert "'trippled' names no node of the graph; closest node names: 'tripled'" in message
    assert "'zzz' names no node of the graph\n" in message  # nothing close: no suggestion


def test_valid_overrides_do_not_warn(dr):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert dr.execute(["total"], inputs={"x": 1}, overrides={"doubled": 0}) == {"total": 3}


def test_validate_execution_warns_too(dr):
    with pytest.warns(UserWarning, match="'dubled' names no node"):
        dr.validate_execution(["total"], inputs={"x": 1}, overrides={"dubled": 1})
