"""Fan-outs nested two and three deep (dynamic execution tests)."""

from __future__ import annotations

from cayley.htypes import Collect, Parallelizable


def outer(n_outer: int) -> Parallelizable[int]:
    """Outer items: 0 .. n_outer-1."""
    yield from range(n_outer)


def outer_val(outer: int) -> int:
    """Per outer item."""
    return outer * 10


def inner(outer_val: int, n_inner: int) -> Parallelizable[int]:
    """Inner items of one outer item."""
    for j in range(n_inner):
        yield outer_val + j


def inner_val(inner: int, bias: int) -> int:
    """Per inner item, with an outside input."""
    return inner + bias


def inner_sum(inner_val: Collect[int]) -> int:
    """Fan-in of the inner block, inside the outer block."""
    return sum(inner_val)


def outer_result(inner_sum: int, outer_val: int) -> int:
    """Back in the outer block: uses the inner fan-in and an outer per-item value."""
    return inner_sum - outer_val


def grand(outer_result: Collect[int]) -> list[int]:
    """Fan-in of the outer block."""
    return list(outer_result)


def grand_total(grand: list[int]) -> int:
    """After everything."""
    return sum(grand)


def leaf(inner_val: int) -> Parallelizable[int]:
    """Third level: inner_val % 3 items per inner item."""
    yield from range(inner_val % 3)


def leaf_val(leaf: int, inner_val: int, outer_val: int) -> int:
    """Per leaf item; reads values of both enclosing items."""
    return leaf * 100 + inner_val + outer_val


def leaf_sum(leaf_val: Collect[int]) -> int:
    """Fan-in of the leaf block (inside the inner block)."""
    return sum(leaf_val)


def mid_list(leaf_sum: Collect[int]) -> list[int]:
    """Fan-in of the inner block (inside the outer block)."""
    return list(leaf_sum)


def top(mid_list: Collect[list[int]]) -> list[list[int]]:
    """Fan-in of the outer block."""
    return list(mid_list)
