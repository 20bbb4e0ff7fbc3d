"""Choosing the adapter class of a format for a type and a set of arguments.

Among the classes registered under a format, the candidates are those handling the type (see
:meth:`~cayley.io.data_adapters.AdapterCommon.match`). Of those, classes whose arguments fit
the ones given (nothing required missing, nothing unknown) are preferred, then classes naming
the type over generic ones, then the most recently registered. So ``load_from.csv(path=...)``
for a parameter annotated ``Any`` picks the pandas reader (which takes ``path``) rather than
the polars one (which takes ``file``).
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Collection, Sequence
from typing import Any, NamedTuple

from cayley import htypes
from cayley.function_modifiers.base import InvalidDecoratorException
from cayley.io.data_adapters import AdapterCommon

__all__ = ["describe_types", "keyword_signature", "resolve_adapter"]


class _Candidate(NamedTuple):
    adapter: type[AdapterCommon]
    specific: bool
    order: int
    missing: frozenset[str]
    unknown: frozenset[str]

    @property
    def fits(self) -> bool:
        return not self.missing and not self.unknown


def describe_types(adapter: type[AdapterCommon]) -> str:
    """The types an adapter handles, without importing its library."""
    if adapter.library is not None:
        import sys

        if adapter.library not in sys.modules:
            return f"{adapter.library} types"
    return ", ".join(htypes.get_type_as_string(t) for t in adapter.applicable_types())


def _type_text(type_: Any) -> str:
    return htypes.get_type_as_string(type_)


def _fits(adapter: type[AdapterCommon], given: frozenset[str]) -> bool:
    required = set(adapter.get_required_arguments())
    return required <= given <= required | set(adapter.get_optional_arguments())


def _arguments_text(adapter: type[AdapterCommon], given: frozenset[str]) -> str:
    required = sorted(adapter.get_required_arguments())
    optional = sorted(adapter.get_optional_arguments())
    if len(optional) > 12:  # name the close ones only
        close = sorted({m for g in given for m in difflib.get_close_matches(g, optional, n=3)})
        shown = f"{len(optional)} optional ones" + (f" such as {close}" if close else "")
    else:
        shown = f"optional {optional or 'none'}"
    return f"required {required or 'none'}, {shown}"


def resolve_adapter(
    fmt: str,
    role: str,
    candidates: Sequence[type[AdapterCommon]],
    type_: Any,
    given: Collection[str],
    where: str,
) -> type[AdapterCommon]:
    """The class of format ``fmt`` to use for ``type_`` with arguments named ``given``.

    ``role`` is ``"loader"`` or ``"saver"`` and ``where`` names the parameter or node, both for
    error messages. Raises :class:`InvalidDecoratorException` when no class handles the type
    or when the arguments do not fit the chosen class.
    """
    given = frozenset(given)
    typed: list[_Candidate] = []
    for order, adapter in enumerate(candidates):
        specific = adapter.match(type_)
        if specific is None:
            continue
        required = frozenset(adapter.get_required_arguments())
        known = required | frozenset(adapter.get_optional_arguments())
        typed.append(_Candidate(adapter, specific, order, required - given, given - known))
    if not typed:
        handled = "; ".join(f"{c.__name__}: {describe_types(c)}" for c in candidates)
        raise InvalidDecoratorException(
            f"No {fmt} {role} handles type {_type_text(type_)} ({where}). The {fmt} {role}s "
            f"handle: {handled}. Change the annotation, or pick another format."
        )
    fitting = [c for c in typed if c.fits]
    chosen = max(fitting or typed, key=lambda c: (c.specific, c.order))
    if chosen.fits:
        return chosen.adapter
    problems = []
    if chosen.missing:
        problems.append(f"missing required argument(s) {sorted(chosen.missing)}")
    if chosen.unknown:
        problems.append(f"unknown argument(s) {sorted(chosen.unknown)}")
    message = (
        f"{fmt} {role} {chosen.adapter.__name__} for type {_type_text(type_)} ({where}): "
        f"{' and '.join(problems)}. It takes {_arguments_text(chosen.adapter, given)}."
    )
    others = [a.__name__ for a in candidates if a is not chosen.adapter and _fits(a, given)]
    if others:
        message += (
            f" These arguments fit {others} of the same format, which handle other types "
            "(check the annotation)."
        )
    raise InvalidDecoratorException(message)


def keyword_signature(
    classes: Sequence[type[AdapterCommon]], leading: Sequence[inspect.Parameter]
) -> inspect.Signature:
    """``leading``, then every argument any of ``classes`` takes (keyword-only, default None).

    Gives ``load_from.csv``, ``to.parquet``... a signature that editors and ``help`` show.
    """
    params = list(leading)
    seen = {p.name for p in params}
    for cls in classes:
        for name in (*cls.get_required_arguments(), *cls.get_optional_arguments()):
            if name not in seen:
                seen.add(name)
                params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None))
    return inspect.Signature(params)
