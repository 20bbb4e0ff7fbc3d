"""Run the ETL dataflow and save its results with materialize: parquet and json.

    python examples/etl/run.py [output folder]    (default: examples/etl/output)

The same dataflow runs on threads and on processes; both write the same files.
"""

from __future__ import annotations

import json
import pathlib
import sys

import dataflow
import pandas as pd

from cayley import driver
from cayley.execution import executors
from cayley.io.materialization import to

HERE = pathlib.Path(__file__).parent


def run(dr: driver.Driver, out: pathlib.Path) -> dict:
    """Materializes the report (parquet) and the overview (json) into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    metadata, extra = dr.materialize(
        to.parquet(id="report_parquet", dependencies=["report"], path=str(out / "report.parquet")),
        to.json(id="overview_json", dependencies=["overview"], path=str(out / "overview.json")),
        additional_vars=["report"],
        inputs={"sales_path": str(HERE / "data" / "sales.csv")},
    )
    return {"metadata": metadata, "report": extra["report"]}


def main(argv: list[str]) -> int:
    out = pathlib.Path(argv[1]) if len(argv) > 1 else HERE / "output"
    runs = {
        "threads": executors.MultiThreadingExecutor(max_tasks=2),
        "processes": executors.MultiProcessingExecutor(max_tasks=2),
    }
    written = {}
    for label, executor in runs.items():
        dr = (
            driver.Builder()
            .with_modules(dataflow)
            .enable_dynamic_execution()
            .with_remote_executor(executor)
            .build()
        )
        result = run(dr, out / label)
        parquet = result["metadata"]["report_parquet"]
        print(
            f"{label:>9}: wrote {parquet['file_metadata']['path']} "
            f"({parquet['dataframe_metadata']['rows']} rows, {parquet['file_metadata']['size']} bytes)"
        )
        written[label] = (
            pd.read_parquet(out / label / "report.parquet"),
            json.loads((out / label / "overview.json").read_text()),
        )
    report, overview = written["threads"]
    print("\nreport.parquet, read back with pandas:")
    print(report.to_string(index=False))
    print("\noverview.json:", json.dumps(overview))
    same = all(r.equals(report) and o == overview for r, o in written.values())
    print(f"\nthreads and processes wrote the same files: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
