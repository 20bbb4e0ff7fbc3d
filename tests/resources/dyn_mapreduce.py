"""A single fan-out with the usual map-reduce shapes around it (dynamic execution tests)."""

from __future__ import annotations

from cayley.htypes import Collect, Parallelizable


def items(n: int) -> Parallelizable[int]:
    """0 .. n-1, from a generator."""
    yield from range(n)


def scaled(items: int, scale: int) -> int:
    """Uses an outside input (or a config value) inside the block."""
    return items * scale


def shifted(scaled: int, offset: int = 0) -> int:
    """An optional outside input inside the block."""
    return scaled + offset


def total(shifted: Collect[int]) -> int:
    """Fan-in: sum."""
    return sum(shifted)


def as_list(shifted: Collect[int]) -> list[int]:
    """A second fan-in of the same block."""
    return list(shifted)


def summary(total: int, as_list: list[int], label: str = "run") -> str:
    """Downstream of both fan-ins."""
    return f"{label}:{total}:{len(as_list)}"


def pairs(shifted: Collect[int], scaled: Collect[int]) -> list[tuple[int, int]]:
    """One function, two Collect parameters."""
    return list(zip(shifted, scaled))


def items_back(items: Collect[int]) -> list[int]:
    """The expander fed straight into Collect: the items themselves."""
    return list(items)


def with_extra(shifted: Collect[int], label: str = "run") -> str:
    """A fan-in that also takes a plain outside input."""
    return f"{label}={sum(shifted)}"


def share(shifted: int, total: int) -> float:
    """The normalize pattern: per-item value over the fan-in of the same block."""
    return shifted / total if total else 0.0


def share_plus(share: float, shifted: int) -> float:
    """A second block node that uses the per-item value and the normalised one."""
    return share + shifted


def shares(share: Collect[float]) -> list[float]:
    """Collects the normalised values."""
    return list(share)


def shares_plus(share_plus: Collect[float]) -> list[float]:
    """Collects the second normalised block node."""
    return list(share_plus)


def regrouped(shifted: Collect[int]) -> Parallelizable[int]:
    """Collects and fans out again: chained map-reduce."""
    for value in shifted:
        yield value
        yield -value


def regrouped_sq(regrouped: int) -> int:
    """Block of the second fan-out."""
    return regrouped * regrouped


def regrouped_total(regrouped_sq: Collect[int]) -> int:
    """Fan-in of the second fan-out."""
    return sum(regrouped_sq)


def listed(n: int) -> Parallelizable[str]:
    """A Parallelizable that returns a list, not a generator."""
    return [f"x{i}" for i in range(n)]


def listed_upper(listed: str) -> str:
    """Block of ``listed``."""
    return listed.upper()


def listed_joined(listed_upper: Collect[str]) -> str:
    """Fan-in of ``listed``."""
    return ",".join(listed_upper)
