"""A feature pipeline over a parquet dataset of orders, one partition at a time.

``partition`` fans out over the row groups of the dataset; each partition is loaded, checked
against a pandera schema and given its features by ``@with_columns``; ``all_features``
joins them back in order and ``summary`` is checked against a pydantic model. The same
functions run sequentially or with the partitions spread over processes, Ray or Dask.
"""

from __future__ import annotations

import order_features
import pandas as pd
import pandera.pandas as pa
import pydantic

from cayley.function_modifiers import check_output
from cayley.htypes import Collect, Parallelizable
from cayley.plugins import h_pandas

ORDERS = pa.DataFrameSchema(
    {
        "order_id": pa.Column(int, unique=True),
        "region": pa.Column(str),
        "amount": pa.Column(float, pa.Check.ge(0)),
        "items": pa.Column(int, pa.Check.ge(1)),
        "discount": pa.Column(float, pa.Check.in_range(0.0, 1.0)),
    }
)


class Summary(pydantic.BaseModel):
    """What ``summary`` must return."""

    orders: int
    revenue: float
    large_share: float
    revenue_by_region: dict[str, float]


def partition(orders_path: str, rows_per_partition: int) -> Parallelizable[h_pandas.Partition]:
    """The partitions of the dataset (whole row groups, about ``rows_per_partition`` rows)."""
    yield from h_pandas.partitions(orders_path, rows=rows_per_partition)


@check_output(schema=ORDERS, importance="fail")
def orders(partition: h_pandas.Partition) -> pd.DataFrame:
    """The orders of one partition, read where this node runs."""
    return partition.load()


@h_pandas.with_columns(
    order_features,
    columns_to_pass=["amount", "items", "discount"],
    select=["unit_price", "net_amount", "is_large", "log_net_amount"],
)
def features(orders: pd.DataFrame) -> pd.DataFrame:
    """The orders of one partition with their features."""
    return orders


def all_features(features: Collect[pd.DataFrame]) -> pd.DataFrame:
    """Every partition's features, in dataset order."""
    return h_pandas.concat(features)


@check_output(model=Summary, importance="fail")
def summary(all_features: pd.DataFrame) -> dict:
    """Totals over the whole dataset."""
    by_region = all_features.groupby("region")["net_amount"].sum().round(2)
    return {
        "orders": int(len(all_features)),
        "revenue": round(float(all_features["net_amount"].sum()), 2),
        "large_share": round(float(all_features["is_large"].mean()), 4),
        "revenue_by_region": {str(k): float(v) for k, v in by_region.items()},
    }
