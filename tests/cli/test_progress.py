"""The progress bar of ``cayley run``: on stderr, only when it is a terminal."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

from tests.cli.conftest import cayley_env, write

SLOW = """
import time

def a(x: int) -> int:
    time.sleep(0.25)
    return x + 1

def b(a: int) -> int:
    time.sleep(0.25)
    return a + 1

def c(b: int) -> int:
    time.sleep(0.25)
    return b + 1

def d(c: int) -> int:
    time.sleep(0.25)
    return c + 1

def e(d: int) -> int:
    time.sleep(0.25)
    return d + 1
"""


def _run_with_terminal_stderr(
    args: list[str], cwd: Path, columns: int = 100
) -> tuple[int, str, str]:
    """Runs ``args`` with stderr on a pseudo-terminal ``columns`` wide (0: a terminal that
    reports no size); returns (status, stdout, terminal output)."""
    leader, follower = pty.openpty()
    if columns:
        fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 30, columns, 0, 0))
    process = subprocess.Popen(
        args, cwd=cwd, env=cayley_env(), stdout=subprocess.PIPE, stderr=follower
    )
    os.close(follower)
    chunks = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.1)
        if ready:
            try:
                data = os.read(leader, 4096)
            except OSError:  # the terminal closed: the process is done with it
                break
            if not data:
                break
            chunks.append(data)
        elif process.poll() is not None:
            break
    os.close(leader)
    stdout = process.stdout.read().decode() if process.stdout else ""
    status = process.wait(timeout=10)
    return status, stdout, b"".join(chunks).decode(errors="replace")


def test_progress_bar_on_a_terminal_for_runs_over_a_second(tmp_path: Path) -> None:
    write(tmp_path, "slow.py", SLOW)
    command = [sys.executable, "-m", "cayley", "run", "slow.py", "-o", "e", "--inputs", '{"x": 0}']
    for columns in (100, 0):
        status, stdout, terminal = _run_with_terminal_stderr(command, tmp_path, columns)
        assert status == 0, terminal
        assert json.loads(stdout) == {"e": 5}  # results stay on stdout
        last = terminal.strip().split("\r")[-1]
        assert last.startswith("cayley run -> Execution Complete!: 100%|"), terminal
        assert "| 5/5 [" in last
    status, stdout, terminal = _run_with_terminal_stderr([*command, "--no-progress"], tmp_path)
    assert (status, json.loads(stdout), terminal) == (0, {"e": 5}, "")
