"""``make demo`` runs examples/word_count/run.py: its runs are recorded and it says how to see them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from cayley.tracking.queries import RunStore

ROOT = Path(__file__).resolve().parents[2]


def test_the_demo_records_its_runs_and_prints_the_command_to_open_them(tmp_path):
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "word_count" / "run.py")],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    last = done.stdout.strip().splitlines()[-1]
    assert last.endswith("cayley ui --store .cayley/runs.db"), last
    runs = RunStore(tmp_path / ".cayley" / "runs.db").list_runs()
    assert len(runs) == 3
    assert {(run["project"], run["status"]) for run in runs} == {("word_count", "success")}
    assert {tuple(run["outputs"]) for run in runs} == {("total_words", "words_per_document")}
