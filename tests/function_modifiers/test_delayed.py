"""@resolve and @resolve_from_config."""

from __future__ import annotations

import pytest

from cayley import settings
from cayley.function_modifiers import (
    InvalidDecoratorException,
    ResolveAt,
    base,
    config,
    extract_fields,
    parameterize,
    parameterize_sources,
    resolve,
    resolve_from_config,
    tag,
    value,
)
from tests.function_modifiers.helpers import nodes_of, user_tags

POWER = {settings.ENABLE_POWER_USER_MODE: True}


def test_resolve_builds_decorator_from_config() -> None:
    @resolve(
        when=ResolveAt.CONFIG_AVAILABLE,
        decorate_with=lambda names, offset=0: parameterize(
            **{name: {"q": value(i + offset)} for i, name in enumerate(names)}
        ),
    )
    def resolved(q: int) -> int:
        return q

    nodes = nodes_of(resolved, {"names": ["r1", "r2"], **POWER})
    assert list(nodes) == ["r1", "r2"]
    assert nodes["r2"].callable() == 1
    shifted = nodes_of(resolved, {"names": ["r1"], "offset": 10, **POWER})
    assert shifted["r1"].callable() == 10


def test_resolve_from_config_stacked() -> None:
    @tag(owner="me")
    @resolve_from_config(decorate_with=lambda sources: parameterize_sources(**sources))
    @config.when(on=True)
    def summed(a: int, b: int) -> int:
        return a + b

    cfg = {"sources": {"s1": {"a": "x"}, "s2": {"b": "y"}}, "on": True, **POWER}
    nodes = nodes_of(summed, cfg)
    assert set(nodes) == {"s1", "s2"}
    assert set(nodes["s1"].input_types) == {"x", "b"}
    assert user_tags(nodes["s1"]) == {"owner": "me", "hamilton.config": "on"}
    assert nodes_of(summed, {"on": False}) == {}


def test_resolve_into_a_resolver() -> None:
    @resolve_from_config(decorate_with=lambda mode: config.when(mode=mode))
    def chosen__v(x: int) -> int:
        return x

    assert list(nodes_of(chosen__v, {"mode": "a", **POWER})) == ["chosen"]


def test_power_user_mode_required() -> None:
    @resolve_from_config(decorate_with=lambda: tag(a="b"))
    def fn() -> int:
        return 1

    with pytest.raises(
        InvalidDecoratorException,
        match=r"@resolve_from_config on function .*fn: .*only allowed in power-user mode: add "
        r"hamilton.enable_power_user_mode=True",
    ):
        base.resolve_nodes(fn, {})


def test_missing_config_key() -> None:
    @resolve_from_config(decorate_with=lambda needed: tag(a=needed))
    def fn() -> int:
        return 1

    with pytest.raises(base.MissingConfigParametersException, match=r"\['needed'\]"):
        base.resolve_nodes(fn, POWER)


def test_resolved_decorator_is_validated() -> None:
    @resolve_from_config(decorate_with=lambda: extract_fields(["a"]))
    def not_a_dict() -> int:
        return 1

    with pytest.raises(InvalidDecoratorException, match="@extract_fields on function .*not_a_dict"):
        base.resolve_nodes(not_a_dict, POWER)

    @resolve_from_config(decorate_with=lambda: "not a decorator")
    def returns_junk() -> int:
        return 1

    with pytest.raises(InvalidDecoratorException, match="which is not a decorator"):
        base.resolve_nodes(returns_junk, POWER)


def test_resolved_expander_conflicts_with_static_one() -> None:
    @resolve_from_config(decorate_with=lambda: parameterize(b={"x": value(2)}))
    @parameterize(a={"x": value(1)})
    def fn(x: int) -> int:
        return x

    with pytest.raises(InvalidDecoratorException, match="cannot be combined with @parameterize"):
        base.resolve_nodes(fn, POWER)


def test_resolve_misuse() -> None:
    with pytest.raises(InvalidDecoratorException, match="CONFIG_AVAILABLE"):
        resolve(when="later", decorate_with=lambda: tag(a="b"))  # type: ignore[arg-type]
    with pytest.raises(InvalidDecoratorException, match="keyword-friendly"):
        resolve_from_config(decorate_with=lambda *args: tag(a="b"))
    with pytest.raises(InvalidDecoratorException, match="must be a function"):
        resolve_from_config(decorate_with=3)  # type: ignore[arg-type]


def test_excluded_function_needs_no_power_user_mode() -> None:
    @resolve_from_config(decorate_with=lambda: tag(a="b"))
    @config.when(on=True)
    def fn() -> int:
        return 1

    assert base.resolve_nodes(fn, {"on": False}) == []
