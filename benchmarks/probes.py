"""Measurements that need a fresh interpreter; run as a child process by ``run.py``.

Usage: ``python benchmarks/probes.py rss ITEMS`` prints one JSON object with the resident
set size before, and its peak during, summing ``ITEMS`` fan-out items with cayley.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
from pathlib import Path

from dataflows import fanout_source
from engines import CAYLEY, ensure_cayley_importable


def proc_status_mib(key: str) -> float | None:
    """A ``kB`` field of ``/proc/self/status`` (``VmRSS``, ``VmHWM``) in MiB, if available."""
    status = Path("/proc/self/status")
    if not status.exists():
        return None
    for line in status.read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1]) / 2**10
    return None


def reset_peak_rss() -> bool:
    """Resets the kernel's peak-RSS mark of this process (Linux ≥ 4.0); whether it worked."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def peak_rss_mib() -> float:
    """Peak resident set size of this process, in MiB.

    ``VmHWM`` where /proc exists: unlike ``ru_maxrss``, it starts afresh at ``exec``, so it
    does not inherit the parent's size at ``fork``.
    """
    hwm = proc_status_mib("VmHWM")
    if hwm is not None:
        return hwm
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (2**20 if sys.platform == "darwin" else 2**10)


def rss_probe(items: int) -> dict[str, float]:
    """Resident memory before, and peak during, one synchronous fan-out over ``items`` items.

    Growth is the peak during the run minus the resident size just before it.
    """
    ensure_cayley_importable()
    module = CAYLEY.module_from_source(fanout_source(CAYLEY.package))
    dr = CAYLEY.build_dynamic(module)
    dr.execute(["total"], inputs={"n_items": 1000})
    current = proc_status_mib("VmRSS")
    reset = reset_peak_rss()
    before = peak_rss_mib() if current is None else current
    result = dr.execute(["total"], inputs={"n_items": items})["total"]
    after = peak_rss_mib()
    expected = items * (items + 1)
    if result != expected:
        raise AssertionError(f"sum of {items} items is {result}, expected {expected}")
    return {
        "items": items,
        "before_mib": before,
        "after_mib": after,
        "growth_mib": after - before,
        "peak_reset": reset,
    }


def main(argv: list[str] | None = None) -> None:
    """Parses the probe name and prints its JSON result."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("probe", choices=["rss"])
    parser.add_argument("items", type=int)
    args = parser.parse_args(argv)
    print(json.dumps(rss_probe(args.items)))


if __name__ == "__main__":
    main()
