"""Data I/O decorators import, but are not supported yet."""

from __future__ import annotations

import pytest

from cayley.function_modifiers import dataloader, datasaver, load_from, save_to, source


def _fn() -> int:
    return 1


@pytest.mark.parametrize(
    ("decorator", "label"),
    [
        (lambda: load_from.json(path=source("p")), "load_from.json"),
        (lambda: save_to.csv(path="x", output_name_="saved"), "save_to.csv"),
        (lambda: dataloader(), "dataloader"),
        (lambda: datasaver(), "datasaver"),
    ],
)
def test_applying_raises_not_implemented(decorator, label: str) -> None:  # noqa: ANN001
    with pytest.raises(NotImplementedError, match=rf"@{label} is not yet supported in cayley"):
        decorator()(_fn)


def test_direct_construction_raises() -> None:
    with pytest.raises(NotImplementedError, match="@load_from is not yet supported in cayley"):
        load_from()
    with pytest.raises(NotImplementedError, match="@save_to is not yet supported in cayley"):
        save_to()


def test_dunder_lookups_stay_normal() -> None:
    with pytest.raises(AttributeError):
        load_from.__wrapped__  # noqa: B018
