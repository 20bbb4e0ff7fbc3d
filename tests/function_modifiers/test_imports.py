"""Importing the decorators must not import dataframe libraries."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize(
    "statement",
    [
        "import cayley.function_modifiers",
        "from cayley.function_modifiers import *",
        "import cayley.data_quality.default_validators",
    ],
)
def test_no_heavy_imports(statement: str) -> None:
    code = (
        f"{statement}\n"
        "import sys\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in {'pandas', 'numpy', 'polars'})\n"
        "print(heavy)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"


def test_star_import_matches_all() -> None:
    import cayley.function_modifiers as fm

    for name in fm.__all__:
        assert getattr(fm, name) is not None
    assert fm.cayley_exclude is fm.hamilton_exclude


def test_settings_constant() -> None:
    from cayley import settings

    assert settings.ENABLE_POWER_USER_MODE == "hamilton.enable_power_user_mode"
