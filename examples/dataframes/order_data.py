"""A random orders dataset for the example, written as parquet files."""

from __future__ import annotations

import pathlib

import numpy as np
import pandas as pd


def write_orders(
    directory: pathlib.Path, rows: int, files: int = 2, row_group_size: int = 25_000, seed: int = 7
) -> str:
    """A parquet dataset of ``rows`` random orders in ``files`` files of ``row_group_size``
    row groups."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "order_id": np.arange(rows, dtype=np.int64),
            "region": rng.choice(["north", "south", "east", "west"], size=rows),
            "amount": rng.gamma(2.0, 40.0, size=rows).round(2),
            "items": rng.integers(1, 8, size=rows),
            "discount": rng.choice([0.0, 0.05, 0.1, 0.2], size=rows),
        }
    )
    directory.mkdir(parents=True, exist_ok=True)
    for index, part in enumerate(np.array_split(np.arange(rows), files)):
        frame.iloc[part].to_parquet(
            directory / f"part-{index}.parquet", row_group_size=row_group_size
        )
    return str(directory)
