"""Column functions: one feature of an order each, computed from other columns.

Each function is a node of the ``with_columns`` group in ``order_pipeline``: its name is the
column it adds, its parameters the columns (or other features) it reads.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def unit_price(amount: pd.Series, items: pd.Series) -> pd.Series:
    """Price per item."""
    return amount / items


def net_amount(amount: pd.Series, discount: pd.Series) -> pd.Series:
    """What the customer paid after the discount."""
    return amount * (1.0 - discount)


def is_large(net_amount: pd.Series, large_order: float) -> pd.Series:
    """Whether the order is above the ``large_order`` threshold (an input of the dataflow)."""
    return net_amount > large_order


def log_net_amount(net_amount: pd.Series) -> pd.Series:
    """A model-friendly scale for amounts."""
    return np.log1p(net_amount)
