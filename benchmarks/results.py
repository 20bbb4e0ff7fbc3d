"""Where a run comes from: the commit, the machine; and writing the results document."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

from engines import REPO_ROOT

RESULTS_PATH = REPO_ROOT / "benchmarks" / "RESULTS.md"

TITLE = "# Benchmark results"
PREAMBLE = (
    "Written by `python benchmarks/run.py --write-results` (`make bench` runs it): do not edit "
    "by hand. The rows, their method and their targets are described in "
    "[README.md](README.md)."
)


def _git(*args: str) -> str | None:
    """Output of a git command in the repository, or ``None`` if git cannot answer."""
    try:
        completed = subprocess.run(
            ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=False
        )
    except OSError:
        return None
    return completed.stdout.strip() if completed.returncode == 0 else None


def commit_text() -> str:
    """The measured commit, and whether the checkout differs from it."""
    head = _git("rev-parse", "HEAD")
    if head is None:
        return "not a git checkout"
    subject = _git("log", "-1", "--format=%s") or ""
    changed = _git("status", "--porcelain", "--", "cayley", "benchmarks")
    state = (
        "**with uncommitted changes to cayley/ or benchmarks/**"
        if changed
        else "clean checkout of that commit"
    )
    return f"`{head[:12]}` ({subject[:70]}); {state}"


def cpu_model() -> str:
    """The processor's model name where the platform reports it."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def memory_text() -> str:
    """Total memory, where the platform reports it."""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 2**20:.0f} GiB"
    return "memory unknown"


def machine_text() -> str:
    """Cores, processor, memory, operating system and Python."""
    return (
        f"{os.cpu_count()} cores ({cpu_model()}), {memory_text()}, {platform.system()} "
        f"{platform.machine()}; Python {platform.python_version()}"
    )


def write_results(document: str, path: Path = RESULTS_PATH) -> Path:
    """Writes the run's document under a title that says how it is produced."""
    path.write_text(f"{TITLE}\n\n{PREAMBLE}\n\n{document}\n", encoding="utf-8")
    return path
