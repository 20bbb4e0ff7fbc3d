"""The benchmark command runs every registered row and writes a results document; the
benchmarks README describes every row with the numbers the code uses."""

from __future__ import annotations

import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks"


def run_script(*args: str, timeout: float = 170) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(BENCH / "run.py"), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def registered_rows() -> list[str]:
    listed = run_script("--list", timeout=60)
    assert listed.returncode == 0, listed.stderr
    return [line.split("\t")[0] for line in listed.stdout.splitlines()]


def settings_module():
    """``benchmarks/report.py``, importable the way ``run.py`` imports it."""
    sys.path.insert(0, str(BENCH))
    try:
        import report
    finally:
        sys.path.remove(str(BENCH))
    return report


@pytest.mark.timeout(200)
def test_quick_run_of_every_row_writes_the_results_document(tmp_path: pathlib.Path) -> None:
    numbers = registered_rows()
    assert len(numbers) >= 13 and numbers == sorted(numbers, key=lambda n: int(n))
    results = tmp_path / "RESULTS.md"
    completed = run_script("--quick", "--no-hamilton", "--write-results", str(results))
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "Traceback" not in completed.stderr
    document = results.read_text()
    assert document.rstrip("\n").endswith(completed.stdout.rstrip("\n"))
    assert document.startswith("# Benchmark results\n")
    for field in ("- command: `python benchmarks/run.py --quick", "- date: ", "- commit: ",
                  "- machine: ", "cores", "Python "):  # fmt: skip
        assert field in document, field
    table = [line for line in document.splitlines() if line.startswith("| ")]
    assert table[0].split(" | ")[2:5] == ["cayley", "Hamilton", "cayley's advantage"]
    rows = [[cell.strip() for cell in line.strip("|").split(" | ")] for line in table[1:]]
    shown = [row[0] for row in rows]
    for number in numbers:  # every registered row produced at least one table row
        assert any(re.fullmatch(rf"{number}(\D.*)?", n) for n in shown), (number, shown)
    for row in rows:
        assert len(row) == 8, row
        assert row[2] not in ("error", ""), row
        assert row[3] == "—", f"Hamilton was not run, yet row {row[0]} has a figure"
        assert row[6] in ("yes", "**no**", "—"), row
    judged = sum(row[6] != "—" for row in rows)
    assert f"of {judged} rows with a target." in document
    # cluster rows ran on real clusters: their figures are numbers
    for number in ("12a", "12b", "13a", "13b"):
        cell = next(row[2] for row in rows if row[0] == number)
        assert re.match(r"[\d.]+", cell), (number, cell)


def test_the_readme_describes_every_row_with_the_code_s_numbers() -> None:
    readme = (BENCH / "README.md").read_text()
    described = re.findall(r"^\| ([0-9][^ |]*) \|", readme, flags=re.MULTILINE)
    covered: set[str] = set()
    for entry in described:  # "6a–e", "20–23", "52–53", "12a–c"
        first, _, last = entry.partition("–")
        start = int(re.match(r"\d+", first).group())
        end = int(last) if last.isdigit() else start
        covered.update(str(n) for n in range(start, end + 1))
    missing = [n for n in registered_rows() if n not in covered]
    assert not missing, f"rows without a description in benchmarks/README.md: {missing}"

    full = settings_module().Settings.full(True)
    stated = {
        f"at least {full.min_sample_s * 1e3:.0f} ms": "a sample's minimum length",
        f"same number of rounds ({full.rounds},": "row 6's rounds",
        f"more than {full.fanout_size_budget_s:.0f} s)": "row 6's time per case",
        f"exceeds {full.hamilton_run_cap_s:.0f} s": "row 6's cap on Hamilton",
        f"until {full.parallel_rounds} are": "quiet rounds wanted",
        f"or {full.parallel_budget_s:.0f} s have passed": "the quiet-round budget",
        f"at most {full.max_foreign_share:.0%} of the machine's CPU": "a quiet round",
        f"cayley {full.cluster_items:,} items": "cluster items",
        f"Hamilton {full.cluster_hamilton_items:,};": "Hamilton's cluster items",
        f"{full.cluster_rounds} interleaved rounds": "cluster rounds",
        f"{full.cluster_arrays} items each making an "
        f"{full.cluster_array_floats * 8 / 1e6:.0f} MB array": "row 12c's arrays",
        f"{full.parallel_items} items of about {full.parallel_work_s * 1e3:.0f} ms": "row 9a",
    }
    wrong = [what for text, what in stated.items() if text not in readme]
    assert not wrong, f"benchmarks/README.md disagrees with Settings.full on: {wrong}"
