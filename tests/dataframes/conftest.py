"""The example feature pipeline (``examples/dataframes``) as a fixture for every executor.

Worker processes started by these tests import the example's modules and cayley from this
checkout: both directories are put on ``PYTHONPATH`` while clusters start.
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import sys
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "dataframes"
if str(EXAMPLE) not in sys.path:
    sys.path.insert(0, str(EXAMPLE))

import order_data  # noqa: E402
import order_features  # noqa: E402
import order_pipeline  # noqa: E402

#: The pipeline without validation (workers then import neither pandera nor pydantic):
#: partitions, with_columns per partition, concat. Built from source, so it travels by value.
FANOUT_FLOW = """
import order_features
import pandas as pd
from cayley.htypes import Collect, Parallelizable
from cayley.plugins import h_pandas

def partition(orders_path: str, rows_per_partition: int) -> Parallelizable[h_pandas.Partition]:
    yield from h_pandas.partitions(orders_path, rows=rows_per_partition)

def orders(partition: h_pandas.Partition) -> pd.DataFrame:
    return partition.load()

@h_pandas.with_columns(
    order_features,
    columns_to_pass=["amount", "items", "discount"],
    select=["unit_price", "net_amount", "is_large", "log_net_amount"],
)
def features(orders: pd.DataFrame) -> pd.DataFrame:
    return orders

def all_features(features: Collect[pd.DataFrame]) -> pd.DataFrame:
    return h_pandas.concat(features)
"""

#: ``with_columns`` without fan-out, for node-level graph adapters.
FEATURES_FLOW = """
import order_features
import pandas as pd
from cayley.plugins import h_pandas

def orders(orders_path: str) -> pd.DataFrame:
    return pd.read_parquet(orders_path)

@h_pandas.with_columns(order_features, columns_to_pass=["amount", "items", "discount"])
def features(orders: pd.DataFrame) -> pd.DataFrame:
    return orders
"""

ROWS = 4_000
ROWS_PER_PARTITION = 1_000
LARGE_ORDER = 100.0


@contextlib.contextmanager
def example_on_pythonpath() -> Iterator[None]:
    """Lets worker processes started meanwhile import cayley and the example modules."""
    previous = os.environ.get("PYTHONPATH")
    parts = [str(ROOT), str(EXAMPLE)] + ([previous] if previous else [])
    os.environ["PYTHONPATH"] = os.pathsep.join(parts)
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = previous


def by_hand(path: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The pipeline's features and summary computed without cayley, from the whole dataset."""
    frame = pd.read_parquet(path)
    unit_price = order_features.unit_price(frame["amount"], frame["items"])
    net = order_features.net_amount(frame["amount"], frame["discount"])
    large = order_features.is_large(net, LARGE_ORDER)
    features = frame.assign(
        unit_price=unit_price,
        net_amount=net,
        is_large=large,
        log_net_amount=order_features.log_net_amount(net),
    )
    return features, order_pipeline.summary(features)


@pytest.fixture(scope="session")
def orders_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    """4,000 orders in two files of 500-row groups (4 partitions of 1,000 rows)."""
    return order_data.write_orders(
        tmp_path_factory.mktemp("orders") / "orders", ROWS, files=2, row_group_size=500
    )


@pytest.fixture(scope="session")
def expected(orders_path: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Features and summary computed by hand."""
    return by_hand(orders_path)


@pytest.fixture(scope="session")
def pipeline_inputs(orders_path: str) -> dict[str, Any]:
    """The pipeline's inputs for the test dataset."""
    return {
        "orders_path": orders_path,
        "rows_per_partition": ROWS_PER_PARTITION,
        "large_order": LARGE_ORDER,
    }
