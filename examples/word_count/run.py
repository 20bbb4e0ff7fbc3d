"""Run the word-count dataflow sequentially, on threads and on processes.

Every run is recorded by a RunTracker into .cayley/runs.db (relative to the current
directory); the last line printed is the command that opens the recorded runs.
"""

from __future__ import annotations

import pathlib
import sys
import time

import dataflow

from cayley import driver
from cayley.execution import executors
from cayley.tracking import RunTracker

CORPUS = str(pathlib.Path(__file__).parent / "corpus")
STORE = ".cayley/runs.db"


def main() -> int:
    inputs = {"corpus_dir": CORPUS}
    outputs = ["total_words", "words_per_document"]
    tracker = RunTracker(STORE, project="word_count")
    runs = {
        "plain driver": driver.Builder().with_modules(dataflow).with_adapters(tracker).build(),
        "threads": driver.Builder()
        .with_modules(dataflow)
        .with_adapters(tracker)
        .enable_dynamic_execution()
        .with_remote_executor(executors.MultiThreadingExecutor(max_tasks=2))
        .build(),
        "processes": driver.Builder()
        .with_modules(dataflow)
        .with_adapters(tracker)
        .enable_dynamic_execution()
        .with_remote_executor(executors.MultiProcessingExecutor(max_tasks=2))
        .build(),
    }
    results = {}
    for label, dr in runs.items():
        started = time.perf_counter()
        results[label] = dr.execute(outputs, inputs=inputs)
        print(
            f"{label:>12}: {results[label]['total_words']} words in {time.perf_counter() - started:.3f} s"
        )
    first = results["plain driver"]
    print("\nper document (words: top words):")
    for words, top in first["words_per_document"]:
        print(f"  {words:4d}: {', '.join(top)}")
    same = all(r == first for r in results.values())
    print(f"\nall executors agree: {same}")
    tracker.close()
    print(f"\n{len(runs)} runs recorded; to look at them: cayley ui --store {STORE}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
