"""Run the word-count dataflow sequentially, on threads and on processes."""

from __future__ import annotations

import pathlib
import sys
import time

import dataflow

from cayley import driver
from cayley.execution import executors

CORPUS = str(pathlib.Path(__file__).parent / "corpus")


def main() -> int:
    inputs = {"corpus_dir": CORPUS}
    outputs = ["total_words", "words_per_document"]
    runs = {
        "plain driver": driver.Builder().with_modules(dataflow).build(),
        "threads": driver.Builder()
        .with_modules(dataflow)
        .enable_dynamic_execution()
        .with_remote_executor(executors.MultiThreadingExecutor(max_tasks=2))
        .build(),
        "processes": driver.Builder()
        .with_modules(dataflow)
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
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
