"""A small ETL: load sales from a CSV, clean them, summarise each region in parallel, report.

Loading is declared on the function that needs the data (``@load_from.csv``); where results
are written is chosen by whoever runs the dataflow (``to.parquet``, ``to.json`` in run.py).
"""

from __future__ import annotations

import pandas as pd

from cayley.function_modifiers import load_from, source
from cayley.htypes import Collect, Parallelizable


@load_from.csv(path=source("sales_path"))
def sales(raw: pd.DataFrame) -> pd.DataFrame:
    """Sales rows with a region and a positive quantity, a date type and their revenue."""
    clean = raw.dropna(subset=["region"])
    clean = clean[clean["units"] > 0]
    return clean.assign(
        date=pd.to_datetime(clean["date"]),
        revenue=clean["units"] * clean["unit_price"],
    ).reset_index(drop=True)


def rejected_rows(raw_rows: int, sales: pd.DataFrame) -> int:
    """How many rows cleaning dropped."""
    return raw_rows - len(sales)


def raw_rows(sales_path: str) -> int:
    """Rows in the source file (header excluded)."""
    with open(sales_path, encoding="utf-8") as f:
        return sum(1 for _ in f) - 1


def region(sales: pd.DataFrame) -> Parallelizable[str]:
    """One item per region: the summaries below run once per region, in parallel."""
    yield from sorted(sales["region"].unique())


def region_summary(region: str, sales: pd.DataFrame) -> dict:
    """Revenue, units, best product and best month of one region."""
    rows = sales[sales["region"] == region]
    by_product = rows.groupby("product")["revenue"].sum()
    by_month = rows.groupby(rows["date"].dt.strftime("%Y-%m"))["revenue"].sum()
    return {
        "region": region,
        "orders": len(rows),
        "units": int(rows["units"].sum()),
        "revenue": round(float(rows["revenue"].sum()), 2),
        "top_product": str(by_product.idxmax()),
        "best_month": str(by_month.idxmax()),
    }


def report(region_summary: Collect[dict]) -> pd.DataFrame:
    """One row per region, largest revenue first."""
    frame = pd.DataFrame(list(region_summary))
    return frame.sort_values("revenue", ascending=False).reset_index(drop=True)


def overview(report: pd.DataFrame, rejected_rows: int) -> dict:
    """Totals for a dashboard: a JSON-friendly dict."""
    return {
        "regions": len(report),
        "orders": int(report["orders"].sum()),
        "revenue": round(float(report["revenue"].sum()), 2),
        "leader": str(report.loc[0, "region"]),
        "rejected_rows": int(rejected_rows),
    }
