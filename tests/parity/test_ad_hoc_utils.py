"""Temporary modules: public functions copied in, helpers refused, sources inspectable."""

import inspect
import traceback

import pytest

from tests.parity.conftest import Library


def test_temporary_module_holds_copies_of_public_functions(lib: Library) -> None:
    def first(x: int) -> int:
        """Adds one."""
        return x + 1

    module = lib.ad_hoc_utils.create_temporary_module(first, module_name=f"parity_tmp_{lib}")
    assert first.__module__ == __name__  # the original is left alone
    assert module.first is not first
    assert module.first.__module__ == f"parity_tmp_{lib}"
    assert module.first(2) == 3 and module.first.__doc__ == "Adds one."
    public = {name for name, _ in inspect.getmembers(module) if not name.startswith("__")}
    assert public == {"first"}


def test_temporary_module_refuses_helpers_duplicates_and_taken_names(lib: Library) -> None:
    ad_hoc = lib.ad_hoc_utils

    def public(x: int) -> int:
        return x

    def _helper(x: int) -> int:
        return x

    with pytest.raises(ValueError):
        ad_hoc.create_temporary_module(public, _helper)
    with pytest.raises(ValueError):
        ad_hoc.create_temporary_module(public, public)
    ad_hoc.create_temporary_module(public, module_name=f"parity_taken_{lib}")
    with pytest.raises(ValueError):
        ad_hoc.create_temporary_module(public, module_name=f"parity_taken_{lib}")


def test_decorators_survive_the_copy(lib: Library) -> None:
    fm = lib.function_modifiers

    @fm.tag(owner="me")
    def tagged(x: int) -> int:
        return x

    module = lib.ad_hoc_utils.create_temporary_module(tagged)
    dr = lib.driver.Builder().with_modules(module).build()
    (node,) = [v for v in dr.list_available_variables() if v.name == "tagged"]
    assert node.tags["owner"] == "me"


def test_source_module_functions_have_inspectable_source(lib: Library) -> None:
    source = (
        "def doubled(x: int) -> int:\n    return x * 2\n\n\ndef _helper() -> int:\n    return 1\n"
    )
    module = lib.ad_hoc_utils.module_from_source(source)
    assert inspect.getsource(module.doubled) == "def doubled(x: int) -> int:\n    return x * 2\n"
    assert module.doubled(4) == 8


def test_cayley_source_module_tracebacks_show_the_failing_line() -> None:
    from cayley import ad_hoc_utils

    module = ad_hoc_utils.module_from_source(
        """
        def broken(x: int) -> int:
            return x / 0
        """
    )
    with pytest.raises(ZeroDivisionError) as info:
        module.broken(1)
    rendered = "".join(traceback.format_exception(info.value))
    assert "return x / 0" in rendered
