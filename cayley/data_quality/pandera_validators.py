"""Validators behind ``@check_output(schema=...)``: pandera schemas on pandas and polars data.

``schema`` may be a pandera schema object or a ``DataFrameModel`` class:

* pandas ``DataFrame``: a ``pandera.pandas.DataFrameSchema`` or pandas ``DataFrameModel``;
* pandas ``Series``: a ``pandera.pandas.SeriesSchema``;
* polars ``DataFrame``/``LazyFrame``: a ``pandera.polars.DataFrameSchema`` or polars
  ``DataFrameModel`` (a LazyFrame gets the checks pandera runs without collecting it);
* polars ``Series``: a ``pandera.polars.Column`` or a one-column polars schema.

A failure's message lists each failing column with the check that failed and a few failing
values; the diagnostics keep pandera's errors (``schema_errors``) and the failure cases as
records (``failure_cases``). Importing this module registers the validators; it needs
pandera (``pip install "cayley[pandera]"``).
"""

from __future__ import annotations

import abc
import math
import sys
from typing import Any

try:
    import pandera.api.pandas.array as _pandas_array
    import pandera.api.pandas.container as _pandas_container
    import pandera.errors as _pandera_errors
    from pandera.api.dataframe.model import DataFrameModel as _DataFrameModel
except ImportError as exc:
    raise ImportError(
        "check_output(schema=...) needs pandera, which is not installed. Install it with: pip "
        'install "cayley[pandera]"'
    ) from exc

from cayley.data_quality import base, default_validators

__all__ = [
    "PANDERA_VALIDATORS",
    "PanderaDataFrameValidator",
    "PanderaPolarsDataFrameValidator",
    "PanderaPolarsSeriesValidator",
    "PanderaSeriesSchemaValidator",
    "summarize_failures",
]

#: Failure cases kept in a result's diagnostics.
MAX_FAILURE_RECORDS = 100
_EXAMPLES = 5


def _polars_api() -> tuple[Any, Any] | None:
    """pandera's polars schema and column classes, if polars is usable."""
    if "polars" not in sys.modules:
        return None
    try:
        from pandera.api.polars.components import Column
        from pandera.api.polars.container import DataFrameSchema
    except ImportError:
        return None
    return DataFrameSchema, Column


def _as_schema(schema: Any) -> Any:
    """A ``DataFrameModel`` class as its schema; anything else unchanged."""
    if isinstance(schema, type) and issubclass(schema, _DataFrameModel):
        return schema.to_schema()
    return schema


def _records(failure_cases: Any) -> list[dict[str, Any]]:
    if hasattr(failure_cases, "to_dicts"):
        return failure_cases.to_dicts()
    return failure_cases.to_dict("records")


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def summarize_failures(records: list[dict[str, Any]]) -> str:
    """One clause per failing (column, check): the values and rows that failed it."""
    groups: dict[tuple[Any, str], list[dict[str, Any]]] = {}
    for record in records:
        column = None if _missing(record.get("column")) else record.get("column")
        groups.setdefault((column, str(record.get("check"))), []).append(record)
    clauses = []
    for (column, check), cases in groups.items():
        if column is not None:
            where = f"column {column!r}"
        else:
            series = cases[0].get("schema_context") == "SeriesSchema"
            where = "the series" if series else "the frame"
        values = [c.get("failure_case") for c in cases]
        rows = [c.get("index") for c in cases if not _missing(c.get("index"))]
        shown = ", ".join(repr(v) for v in values[:_EXAMPLES])
        more = f" and {len(values) - _EXAMPLES} more" if len(values) > _EXAMPLES else ""
        clause = f"{where} failed check {check}: {shown}{more}"
        if rows:
            clause += f" (rows {rows[:_EXAMPLES]}{'...' if len(rows) > _EXAMPLES else ''})"
        clauses.append(clause)
    return "; ".join(clauses)


class _PanderaValidator(base.BaseDefaultValidator, abc.ABC):
    """Runs a pandera schema (all checks, collecting every failure) on a node's output."""

    #: What the schema must be for this kind of data (for the error message).
    expects: str = ""

    def __init__(self, schema: Any, importance: str) -> None:
        super().__init__(importance)
        self.schema = _as_schema(schema)
        if not self.accepts(self.schema):
            raise ValueError(
                f"schema={schema!r} does not fit this data: {self.expects} "
                f"(got {type(self.schema).__module__}.{type(self.schema).__qualname__})."
            )

    @abc.abstractmethod
    def accepts(self, schema: Any) -> bool:
        """Whether ``schema`` can validate this kind of data."""

    @classmethod
    def arg(cls) -> str:
        return "schema"

    @classmethod
    def name(cls) -> str:
        return "pandera_schema_validator"

    def description(self) -> str:
        return f"Validates the output against the pandera schema {self._schema_name()}."

    def _schema_name(self) -> str:
        name = getattr(self.schema, "name", None)
        return repr(name) if name else type(self.schema).__name__

    def run_schema(self, data: Any) -> Any:
        """Validates ``data``; returns pandera's result (raises ``SchemaErrors``)."""
        return self.schema.validate(data, lazy=True, inplace=True)

    def validate(self, data: Any) -> base.ValidationResult:
        errors_type = _pandera_errors.SchemaErrors
        try:
            result = self.run_schema(data)
            if hasattr(result, "dask"):
                result.compute()
        except errors_type as exc:
            records = _records(exc.failure_cases)
            return base.ValidationResult(
                passes=False,
                message=summarize_failures(records),
                diagnostics={
                    "schema_errors": exc.schema_errors,
                    "failure_cases": records[:MAX_FAILURE_RECORDS],
                },
            )
        return base.ValidationResult(
            passes=True, message=f"Data passes the pandera schema {self._schema_name()}."
        )


def _frame_type(module: str, attribute: str) -> type | None:
    loaded = sys.modules.get(module)
    found = getattr(loaded, attribute, None) if loaded is not None else None
    return found if isinstance(found, type) else None


def _is(datatype: Any, module: str, *attributes: str) -> bool:
    plain = default_validators.plain_type(datatype)
    if not isinstance(plain, type):
        return False
    for attribute in attributes:
        frame_type = _frame_type(module, attribute)
        if frame_type is not None and issubclass(plain, frame_type):
            return True
    return False


class PanderaDataFrameValidator(_PanderaValidator):
    """A pandas DataFrame against a ``DataFrameSchema`` (or pandas ``DataFrameModel``)."""

    expects = "a pandas DataFrame needs a pandera.pandas.DataFrameSchema or DataFrameModel"

    @classmethod
    def applies_to(cls, datatype: type) -> bool:
        return _is(datatype, "pandas", "DataFrame")

    def accepts(self, schema: Any) -> bool:
        return isinstance(schema, _pandas_container.DataFrameSchema)


class PanderaSeriesSchemaValidator(_PanderaValidator):
    """A pandas Series against a ``SeriesSchema``."""

    expects = "a pandas Series needs a pandera.pandas.SeriesSchema"

    @classmethod
    def applies_to(cls, datatype: type) -> bool:
        return _is(datatype, "pandas", "Series")

    def accepts(self, schema: Any) -> bool:
        return isinstance(schema, _pandas_array.SeriesSchema)


class PanderaPolarsDataFrameValidator(_PanderaValidator):
    """A polars DataFrame or LazyFrame against a ``pandera.polars.DataFrameSchema``."""

    expects = (
        "a polars DataFrame or LazyFrame needs a pandera.polars.DataFrameSchema or DataFrameModel"
    )

    @classmethod
    def applies_to(cls, datatype: type) -> bool:
        return _is(datatype, "polars", "DataFrame", "LazyFrame")

    def accepts(self, schema: Any) -> bool:
        api = _polars_api()
        return api is not None and isinstance(schema, api[0])

    def run_schema(self, data: Any) -> Any:
        """Validates ``data`` (polars frames are immutable: nothing happens in place)."""
        return self.schema.validate(data, lazy=True)


class PanderaPolarsSeriesValidator(_PanderaValidator):
    """A polars Series against a ``pandera.polars.Column`` or a one-column polars schema.

    The series is checked as a one-column frame named after the column (a ``Column``
    without a name takes the series' name).
    """

    expects = "a polars Series needs a pandera.polars.Column or a one-column DataFrameSchema"

    @classmethod
    def applies_to(cls, datatype: type) -> bool:
        return _is(datatype, "polars", "Series")

    def accepts(self, schema: Any) -> bool:
        api = _polars_api()
        if api is None:
            return False
        frame_schema, column = api
        if isinstance(schema, column):
            return True
        return isinstance(schema, frame_schema) and len(schema.columns) == 1

    def run_schema(self, data: Any) -> Any:
        frame_schema, column = _polars_api()  # type: ignore[misc]
        if isinstance(self.schema, column):
            name = self.schema.name or data.name
            schema = frame_schema({name: self.schema})
        else:
            schema = self.schema
            (name,) = schema.columns
        return schema.validate(data.to_frame(name), lazy=True)


PANDERA_VALIDATORS: list[type[base.BaseDefaultValidator]] = [
    PanderaDataFrameValidator,
    PanderaSeriesSchemaValidator,
    PanderaPolarsDataFrameValidator,
    PanderaPolarsSeriesValidator,
]

default_validators.register_validators(PANDERA_VALIDATORS)
