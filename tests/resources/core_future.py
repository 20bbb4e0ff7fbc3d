"""A module using postponed annotations: every hint is a string until resolved."""

from __future__ import annotations


def numbers(count: int) -> list[int]:
    return list(range(count))


def total(numbers: list[int], offset: int | None = None) -> int:
    return sum(numbers) + (offset or 0)


def labelled(total: int, label: str = "total") -> dict[str, int]:
    return {label: total}
