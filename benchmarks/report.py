"""The results table: run settings, rows, number formatting and markdown rendering."""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from dataclasses import dataclass, field

import harness
from engines import CAYLEY, HAMILTON, Engine

DASH = "—"
EXECUTE_ONLY = "execute only¹"
DEEP_STACK = "deep stack²"
FOOTNOTES = {
    "¹": "Execute only: each driver is built and run once before timing, so graph "
    "construction and plan compilation are excluded.",
    "²": "Both engines run in a thread with a 512 MiB stack and a recursion limit of 200,000: "
    "Hamilton's default executor recurses once per node and fails at Python's default "
    "limit of 1,000.",
    "³": "Quiet round: other processes used at most 5% of the machine's CPU while every "
    "engine's pair of runs in it ran; louder rounds are dropped (all rounds are used if none "
    "is quiet). Counts are quiet/attempted rounds.",
}


@dataclass(frozen=True)
class Settings:
    """Sizes, repetitions and time caps of one run."""

    quick: bool
    hamilton: bool
    rounds: int
    min_sample_s: float
    chain_length: int
    deep_chain_length: int
    build_nodes: int
    import_rounds: int
    fanout_sizes: tuple[int, ...]
    hamilton_fanout_sizes: tuple[int, ...]
    fanout_size_budget_s: float
    hamilton_run_cap_s: float
    rss_items: int
    parallel_items: int
    parallel_work_s: float
    parallel_rounds: int
    parallel_budget_s: float
    max_foreign_share: float
    sleep_tasks: int
    sleep_s: float
    sleep_rounds: int
    decorated_groups: int
    cluster_items: int
    cluster_hamilton_items: int
    cluster_rounds: int
    cluster_arrays: int
    cluster_array_floats: int

    @classmethod
    def full(cls, hamilton: bool) -> Settings:
        """The sizes the targets are stated for."""
        return cls(
            quick=False,
            hamilton=hamilton,
            rounds=9,
            min_sample_s=0.02,
            chain_length=1000,
            deep_chain_length=10_000,
            build_nodes=5000,
            import_rounds=10,
            fanout_sizes=(100, 10**3, 10**4, 10**5, 10**6),
            hamilton_fanout_sizes=(100, 10**3, 10**4),
            fanout_size_budget_s=12.0,
            hamilton_run_cap_s=20.0,
            rss_items=10**6,
            parallel_items=64,
            parallel_work_s=0.02,
            parallel_rounds=5,
            parallel_budget_s=40.0,
            max_foreign_share=0.05,
            sleep_tasks=4,
            sleep_s=1.0,
            sleep_rounds=3,
            decorated_groups=200,
            cluster_items=10_000,
            cluster_hamilton_items=300,
            cluster_rounds=5,
            cluster_arrays=16,
            cluster_array_floats=1_000_000,
        )

    @classmethod
    def smoke(cls, hamilton: bool) -> Settings:
        """Small sizes and few rounds: checks that every benchmark runs, not the targets."""
        return cls(
            quick=True,
            hamilton=hamilton,
            rounds=3,
            min_sample_s=0.002,
            chain_length=1000,
            deep_chain_length=10_000,
            build_nodes=2000,
            import_rounds=3,
            fanout_sizes=(100, 10**3, 10**4),
            hamilton_fanout_sizes=(100, 10**3),
            fanout_size_budget_s=0.5,
            hamilton_run_cap_s=2.0,
            rss_items=10**5,
            parallel_items=16,
            parallel_work_s=0.005,
            parallel_rounds=1,
            parallel_budget_s=0.0,
            max_foreign_share=0.05,
            sleep_tasks=4,
            sleep_s=0.2,
            sleep_rounds=1,
            decorated_groups=40,
            cluster_items=1_000,
            cluster_hamilton_items=50,
            cluster_rounds=2,
            cluster_arrays=4,
            cluster_array_floats=100_000,
        )

    def engines(self) -> list[Engine]:
        """cayley, then Hamilton unless it is disabled."""
        return [CAYLEY, HAMILTON] if self.hamilton else [CAYLEY]


@dataclass
class Row:
    """One line of the results table."""

    number: str
    benchmark: str
    cayley: str
    hamilton: str = DASH
    ratio: str = DASH
    target: str = DASH
    met: bool | None = None
    notes: list[str] = field(default_factory=list)

    def cells(self) -> list[str]:
        """The row's markdown cells."""
        met = DASH if self.met is None else ("yes" if self.met else "**no**")
        return [
            self.number,
            self.benchmark,
            self.cayley,
            self.hamilton,
            self.ratio,
            self.target,
            met,
            "; ".join(self.notes),
        ]


# ---- formatting --------------------------------------------------------------------------
def fmt(value: float, unit: str = "") -> str:
    """Three significant digits and an optional unit."""
    if math.isnan(value):
        return DASH
    magnitude = abs(value)
    if magnitude >= 100 or magnitude == 0:
        text = f"{value:.0f}"
    elif magnitude >= 10:
        text = f"{value:.1f}"
    elif magnitude >= 1:
        text = f"{value:.2f}"
    else:
        text = f"{value:.3g}"
    return f"{text} {unit}".rstrip()


def ratio_text(hamilton: float, cayley: float) -> str:
    """cayley's advantage on a cost: Hamilton's cost over cayley's, e.g. ``22.5×``."""
    if math.isnan(hamilton) or math.isnan(cayley) or cayley <= 0:
        return DASH
    return f"{hamilton / cayley:.3g}×"


def log(message: str) -> None:
    """Progress goes to stderr so stdout carries only the table."""
    print(message, file=sys.stderr, flush=True)


def sampler(fn: Callable[[], object], settings: Settings) -> Callable[[], float]:
    """Runs ``fn`` once as a warm-up and returns a sampler of seconds per call.

    Fast calls are batched so that one sample lasts at least ``settings.min_sample_s``. The
    batch is sized from a call made after the warm-up: a first call that pays one-off costs
    (imports, plan compilation, a rewritten graph) would otherwise make batches of one call,
    each timed cold right after the collection that starts every sample.
    """
    fn()
    repeat = harness.batch_size(fn, settings.min_sample_s)
    return lambda: harness.time_batch(fn, repeat)


#: The table's columns. "cayley" and "Hamilton" hold each engine's own figure (or why it
#: has none); "cayley's advantage" is how many times better cayley's figure is: Hamilton's
#: cost over cayley's, or cayley's speedup over Hamilton's.
COLUMNS = (
    "#",
    "Benchmark",
    "cayley",
    "Hamilton",
    "cayley's advantage",
    "Target",
    "Met",
    "Notes",
)


def summary(rows: list[Row]) -> str:
    """One line: how many rows met their target, and which missed or failed."""
    judged = [row for row in rows if row.met is not None]
    missed = [row.number for row in judged if not row.met]
    errors = [row.number for row in rows if row.cayley == "error"]
    text = f"**Targets met: {len(judged) - len(missed)} of {len(judged)} rows with a target.**"
    if missed:
        text += f" Missed: {', '.join(missed)}."
    if errors:
        text += f" Failed with an error: {', '.join(errors)}."
    return text


def render(rows: list[Row], header: list[str]) -> str:
    """The markdown document: context lines, the summary, the table and its footnotes."""
    lines = [*header, "", summary(rows), ""]
    lines += ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for row in rows:
        cells = [cell.replace("|", "\\|") for cell in row.cells()]
        lines.append("| " + " | ".join(cells) + " |")
    used = [mark for mark in FOOTNOTES if any(mark in note for row in rows for note in row.notes)]
    if used:
        lines.append("")
        lines.extend(f"- {mark} {FOOTNOTES[mark]}" for mark in used)
    return "\n".join(lines)
