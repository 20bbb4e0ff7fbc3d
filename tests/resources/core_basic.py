"""A small diamond dataflow for the core tests.

``x`` is a required input, ``y`` an optional one (default 10), ``z`` feeds an unrelated
branch. ``join`` is imported and ``_private`` is private: neither becomes a node.
"""

from os.path import join  # noqa: F401 - imported functions must not become nodes

from cayley.function_modifiers import tag


def a(x: int) -> int:
    """One more than x."""
    return x + 1


@tag(team="core", stage="early")
def b(a: int, y: int = 10) -> int:
    """a times y."""
    return a * y


@tag(team="core", stage="late")
def c(a: int, b: int) -> int:
    # a comment that is not documentation
    return a + b


@tag(team="other")
def d(z: str) -> str:
    return z.upper()


def _private(x: int) -> int:
    return -x
