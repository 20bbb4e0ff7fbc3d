"""Decorator arguments are checked when Hamilton checks them: decoration, validation or build."""

import pytest

from tests.parity.conftest import Library


def test_parameterize_sources_misuse_is_caught_by_validate_not_the_constructor(
    lib: Library,
) -> None:
    fm = lib.function_modifiers
    # ``parameterization`` is taken as an output name whose mapping names a missing parameter.
    decorator = fm.parameterize_sources(parameterization={"test_1": {"a": "input_1"}})

    def fn(a: int, b: int) -> int:
        return a + b

    with pytest.raises(fm.InvalidDecoratorException):
        decorator.validate(fn)


@pytest.mark.parametrize("kind", ["expand", "collect"])
def test_parameterize_keeps_the_role_of_fan_out_nodes(lib: Library, kind: str) -> None:
    fm, htypes, node = lib.function_modifiers, lib.htypes, lib.node

    def fan_out(n: int) -> htypes.Parallelizable[int]:
        yield from range(n)

    def fan_in(n: htypes.Collect[int]) -> int:
        return sum(n)

    fn = fan_out if kind == "expand" else fan_in
    # The assignments name no parameter of ``fn``: expanding a node ignores them (only
    # ``validate`` reports them), so the node keeps its role.
    decorator = fm.parameterize(renamed={"x": fm.source("x"), "y": fm.source("x")})
    (made,) = decorator.expand_node(node.Node.from_fn(fn), {}, fn)
    expected = node.NodeType.EXPAND if kind == "expand" else node.NodeType.COLLECT
    assert made.name == "renamed"
    assert made.node_role == expected


def test_stacked_check_output_imports_and_fails_when_the_graph_is_built(lib: Library) -> None:
    fm = lib.function_modifiers

    @fm.check_output(range=(0, 10))  # no error while the module is imported
    @fm.check_output(allow_none=False)
    def checked(x: int) -> int:
        return x

    module = lib.ad_hoc_utils.create_temporary_module(checked)
    with pytest.raises(ValueError):  # the two decorators would both make ``checked_raw``
        lib.driver.Builder().with_modules(module).build()


def test_a_non_string_source_is_accepted_when_decorating(lib: Library) -> None:
    fm = lib.function_modifiers

    @fm.parameterize(out={"a": fm.source(3)})
    def fn(a: int) -> int:
        return a

    assert fm.source(3).source == 3


def test_cayley_reports_a_bad_source_name_when_the_graph_is_built() -> None:
    from cayley import ad_hoc_utils, driver
    from cayley.function_modifiers import InvalidDecoratorException, parameterize, source

    @parameterize(out={"a": source(3)})  # accepted when decorated, as in Hamilton
    def fn(a: int) -> int:
        return a

    builder = driver.Builder().with_modules(ad_hoc_utils.create_temporary_module(fn))
    with pytest.raises(InvalidDecoratorException, match=r"source\(\) takes the name of a node"):
        builder.build()
