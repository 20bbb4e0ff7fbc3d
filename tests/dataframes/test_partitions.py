"""Partitions of DataFrames and parquet datasets, and the fan-out pipeline on local executors."""

from __future__ import annotations

import os
import pickle
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pytest

from cayley import ad_hoc_utils, driver
from cayley.execution import executors
from cayley.plugins import h_pandas, h_polars
from cayley.plugins._partitions import ParquetPartition
from tests.dataframes.conftest import order_pipeline


def numbers(rows: int = 10) -> pd.DataFrame:
    return pd.DataFrame({"a": np.arange(rows), "b": np.arange(rows) * 0.5})


def write(path: Path, frame: pd.DataFrame, row_group_size: int) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(path, row_group_size=row_group_size)
    return str(path)


# ---- DataFrames ---------------------------------------------------------------------------
def test_dataframe_partitions_are_ordered_slices() -> None:
    frame = numbers(10).set_index(pd.Index(np.arange(10) * 3))
    parts = list(h_pandas.partitions(frame, rows=4))
    assert [(p.index, p.start, p.stop, p.num_rows) for p in parts] == [
        (0, 0, 4, 4),
        (1, 4, 8, 4),
        (2, 8, 10, 2),
    ]
    assert parts[1].load().index.tolist() == [12, 15, 18, 21]
    assert "rows 8-9 of a DataFrame" == parts[2].describe()
    pd.testing.assert_frame_equal(h_pandas.concat(p.load() for p in parts), frame)
    only_b = list(h_pandas.partitions(frame, rows=100, columns=["b"]))
    assert len(only_b) == 1 and list(only_b[0].load().columns) == ["b"]
    assert list(h_pandas.partitions(numbers(0), rows=5)) == []


@pytest.mark.parametrize("rows", [None, 0, -1, True, 2.5])
def test_dataframe_partitions_need_a_positive_row_count(rows: Any) -> None:
    with pytest.raises(ValueError, match="rows"):
        list(h_pandas.partitions(numbers(), rows=rows))


def test_concat_edge_cases() -> None:
    assert h_pandas.concat([]).empty
    single = numbers(3)
    assert h_pandas.concat([single]) is single
    joined = h_pandas.concat([single, single], ignore_index=True)
    assert joined.index.tolist() == list(range(6))
    assert h_polars.concat([]).is_empty()


# ---- parquet ------------------------------------------------------------------------------
def test_parquet_row_groups_are_joined_up_to_rows(tmp_path: Path) -> None:
    path = write(tmp_path / "n.parquet", numbers(10), row_group_size=3)  # groups 3, 3, 3, 1
    layouts = {
        None: [(0,), (1,), (2,), (3,)],
        6: [(0, 1), (2, 3)],
        2: [(0,), (1,), (2,), (3,)],  # a group is never split
        100: [(0, 1, 2, 3)],
    }
    for rows, groups in layouts.items():
        parts = list(h_pandas.partitions(path, rows=rows))
        assert [p.row_groups for p in parts] == groups
        assert [p.start for p in parts] == [0, *[p.stop for p in parts[:-1]]]
        pd.testing.assert_frame_equal(
            h_pandas.concat(p.load() for p in parts), pd.read_parquet(path)
        )
    (part,) = h_pandas.partitions(path, rows=100, columns=["b"])
    assert list(part.load().columns) == ["b"]
    assert part.describe() == f"row groups [0, 1, 2, 3] of {path}"


@pytest.mark.parametrize(
    "index",
    [pd.RangeIndex(0, 100, 10, name="r"), pd.Index(np.arange(10) * 7, name="key")],
    ids=["stored-range", "stored-column"],
)
def test_parquet_partitions_keep_the_stored_index(tmp_path: Path, index: pd.Index) -> None:
    path = write(tmp_path / "i.parquet", numbers(10).set_index(index), row_group_size=4)
    parts = [p.load() for p in h_pandas.partitions(path)]
    assert parts[1].index.tolist() == index[4:8].tolist()
    pd.testing.assert_frame_equal(h_pandas.concat(parts), pd.read_parquet(path))
    only_b = [p.load() for p in h_pandas.partitions(path, rows=100, columns=["b"])]
    pd.testing.assert_frame_equal(only_b[0], pd.read_parquet(path, columns=["b"]))


def test_parquet_partitions_keep_pandas_types(tmp_path: Path) -> None:
    frame = numbers(6).assign(
        kind=pd.Categorical(["x", "y", "x", "z", "y", "x"]),
        label=["a", "b", None, "d", "e", "f"],
        when=pd.date_range("2024-01-01", periods=6, freq="h", tz="UTC"),
    )
    path = write(tmp_path / "types.parquet", frame, row_group_size=4)
    joined = h_pandas.concat(p.load() for p in h_pandas.partitions(path))
    pd.testing.assert_frame_equal(joined, pd.read_parquet(path))
    assert joined["kind"].dtype == "category" and str(joined["when"].dt.tz) == "UTC"
    with pytest.raises(KeyError, match=r"\['nope'\] are not in the file") as info:
        next(h_pandas.partitions(path, columns=["a", "nope"])).load()
    assert "while reading partition 0" in "\n".join(info.value.__notes__)


def test_parquet_directory_and_file_list(tmp_path: Path) -> None:
    directory = tmp_path / "ds"
    write(directory / "b" / "part-1.parquet", numbers(5) + 100, row_group_size=2)
    write(directory / "a.parquet", numbers(4), row_group_size=10)
    (directory / "_SUCCESS").write_text("")
    (directory / ".hidden").mkdir()
    (directory / ".hidden" / "junk.parquet").write_text("not parquet")
    parts = list(h_pandas.partitions(directory))
    assert [(Path(p.path).name, p.row_groups, p.start) for p in parts] == [
        ("a.parquet", (0,), 0),
        ("part-1.parquet", (0,), 4),
        ("part-1.parquet", (1,), 6),
        ("part-1.parquet", (2,), 8),
    ]
    joined = h_pandas.concat(p.load() for p in parts)
    pd.testing.assert_frame_equal(joined, pd.read_parquet(directory))
    listed = list(h_pandas.partitions([directory / "b" / "part-1.parquet"], rows=10))
    assert [p.num_rows for p in listed] == [5]


def test_parquet_sources_that_do_not_exist(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        list(h_pandas.partitions(tmp_path / "missing.parquet"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no parquet files"):
        list(h_pandas.partitions(tmp_path / "empty"))
    with pytest.raises(FileNotFoundError, match="do not exist"):
        list(h_pandas.partitions([tmp_path / "nope.parquet"]))
    with pytest.raises(ValueError, match="rows must be a positive int"):
        list(h_pandas.partitions(tmp_path / "empty", rows=0))


def test_parquet_partitions_are_small_lazy_references(tmp_path: Path) -> None:
    directory = tmp_path / "lazy"
    write(directory / "a.parquet", numbers(50_000), row_group_size=10_000)
    (directory / "b.parquet").write_bytes(b"not a parquet file")
    parts = h_pandas.partitions(directory)
    first = next(parts)  # only the first file's footer has been read so far
    assert isinstance(first, ParquetPartition)
    assert len(pickle.dumps(first)) < 500, "a partition must not carry its rows"
    assert pickle.loads(pickle.dumps(first)) == first
    assert len([first, *[next(parts) for _ in range(4)]]) == 5
    with pytest.raises(Exception, match="[Pp]arquet"):
        next(parts)
    broken = ParquetPartition(0, 0, 1, path=str(directory / "b.parquet"), row_groups=(0,))
    with pytest.raises(Exception) as info:
        broken.load()
    assert "while reading partition 0: row groups [0] of" in "\n".join(info.value.__notes__)


# ---- polars -------------------------------------------------------------------------------
def test_polars_partitions_of_frames_and_parquet(tmp_path: Path) -> None:
    frame = pl.DataFrame({"a": list(range(7)), "b": [str(i) for i in range(7)]})
    parts = list(h_polars.partitions(frame, rows=3))
    assert [p.load().height for p in parts] == [3, 3, 1]
    assert h_polars.concat(p.load() for p in parts).equals(frame)
    path = tmp_path / "p.parquet"
    frame.write_parquet(path, row_group_size=2)
    loaded = [p.load() for p in h_polars.partitions(path, rows=4, columns=["a"])]
    assert all(isinstance(part, pl.DataFrame) for part in loaded)
    assert [part.height for part in loaded] == [4, 3]
    assert h_polars.concat(loaded, rechunk=False).equals(frame.select("a"))
    with pytest.raises(TypeError, match="LazyFrame"):
        h_polars.partitions(frame.lazy(), rows=2)


# ---- the pipeline on local executors ------------------------------------------------------
def pipeline_driver(remote: executors.TaskExecutor) -> driver.Driver:
    return (
        driver.Builder()
        .with_modules(order_pipeline)
        .enable_dynamic_execution(allow_experimental_mode=True)
        .with_remote_executor(remote)
        .build()
    )


@pytest.mark.parametrize(
    "make",
    [
        lambda: executors.SynchronousLocalTaskExecutor(),
        lambda: executors.MultiThreadingExecutor(max_tasks=2),
        lambda: executors.MultiProcessingExecutor(max_tasks=2, start_method="fork"),
    ],
    ids=["sync", "threads", "fork"],
)
def test_pipeline_matches_the_computation_by_hand(make, pipeline_inputs, expected) -> None:
    result = pipeline_driver(make()).execute(["all_features", "summary"], inputs=pipeline_inputs)
    features, summary = expected
    pd.testing.assert_frame_equal(result["all_features"], features)
    assert result["summary"] == summary


def test_pipeline_on_processes_reads_partitions_only_there(
    pipeline_inputs, expected, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The driver hands out row-group numbers; only the worker processes read rows."""
    driver_pid = os.getpid()
    read_table = ParquetPartition.read_table

    def read_only_in_workers(self: ParquetPartition) -> Any:
        if os.getpid() == driver_pid:
            raise AssertionError(f"the driver read {self.describe()}")
        return read_table(self)

    monkeypatch.setattr(ParquetPartition, "read_table", read_only_in_workers)
    remote = executors.MultiProcessingExecutor(max_tasks=2, start_method="fork")
    result = pipeline_driver(remote).execute(["summary"], inputs=pipeline_inputs)
    assert result["summary"] == expected[1]
    with pytest.raises(AssertionError, match="the driver read"):
        pipeline_driver(executors.SynchronousLocalTaskExecutor()).execute(
            ["summary"], inputs=pipeline_inputs
        )


def test_validation_failure_inside_a_partition_names_it(tmp_path: Path, pipeline_inputs) -> None:
    from cayley.data_quality.base import DataValidationError

    frame = pd.read_parquet(pipeline_inputs["orders_path"])
    frame.loc[2500, "items"] = 0
    path = write(tmp_path / "bad" / "orders.parquet", frame, row_group_size=500)
    inputs = {**pipeline_inputs, "orders_path": path}
    with pytest.raises(DataValidationError) as info:
        pipeline_driver(executors.SynchronousLocalTaskExecutor()).execute(
            ["summary"], inputs=inputs
        )
    message = "\n".join([str(info.value), *info.value.__notes__])
    assert "[orders:pandera_schema_validator]" in message
    assert "column 'items' failed check greater_than_or_equal_to(1): 0 (rows [2500])" in message
    assert "item 2 of 'partition'" in message


def test_collect_keeps_partition_order_when_later_ones_finish_first() -> None:
    flow = ad_hoc_utils.module_from_source(
        """
import time
import pandas as pd
from cayley.htypes import Collect, Parallelizable
from cayley.plugins import h_pandas

def part(frame: pd.DataFrame) -> Parallelizable[h_pandas.Partition]:
    yield from h_pandas.partitions(frame, rows=1)

def slow_first(part: h_pandas.Partition) -> pd.DataFrame:
    time.sleep(0.05 * (4 - part.index))
    return part.load()

def joined(slow_first: Collect[pd.DataFrame]) -> pd.DataFrame:
    return h_pandas.concat(slow_first)
"""
    )
    remote = executors.MultiThreadingExecutor(max_tasks=4)
    dr = (
        driver.Builder()
        .with_modules(flow)
        .enable_dynamic_execution(allow_experimental_mode=True)
        .with_remote_executor(remote)
        .build()
    )
    frame = numbers(4)
    started = time.perf_counter()
    pd.testing.assert_frame_equal(dr.execute(["joined"], inputs={"frame": frame})["joined"], frame)
    assert time.perf_counter() - started < 0.4
