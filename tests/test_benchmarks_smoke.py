"""The benchmark script runs and reports every cayley row (without apache-hamilton)."""

from __future__ import annotations

import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.mark.timeout(180)
def test_quick_benchmark_run_prints_the_table() -> None:
    completed = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick", "--no-hamilton"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=170,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    table = [line for line in completed.stdout.splitlines() if line.startswith("| ")]
    numbers = {line.split("|")[1].strip() for line in table}
    for row in ("1", "2", "3", "4", "5", "8", "10"):
        assert row in numbers, f"row {row} missing from:\n{completed.stdout}"
    assert "Traceback" not in completed.stderr
