"""cayley on a real local Dask cluster: task executor and node-level graph adapter."""

from __future__ import annotations

import importlib.util
import sys

import pytest

distributed = pytest.importorskip("distributed")

from distributed import Client, LocalCluster  # noqa: E402

from cayley import ad_hoc_utils, base, driver  # noqa: E402
from cayley.plugins import h_dask  # noqa: E402

pytestmark = pytest.mark.timeout(120)

CLUSTER = {"processes": True, "threads_per_worker": 1, "dashboard_address": None}


def test_missing_dask_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)
    spec = importlib.util.spec_from_file_location("h_dask_without_dask", h_dask.__file__)
    assert spec is not None and spec.loader is not None
    with pytest.raises(ImportError, match=r'pip install "cayley\[dask\]"'):
        spec.loader.exec_module(importlib.util.module_from_spec(spec))


@pytest.fixture(scope="module")
def dask_client(checks):
    """A local cluster of two single-threaded worker processes for the module."""
    with checks.repository_on_pythonpath():
        cluster = LocalCluster(n_workers=2, **CLUSTER)
        client = Client(cluster)
    yield client
    client.close()
    cluster.close()


@pytest.fixture
def make(dask_client):
    """Fresh executors on the module's cluster."""
    return lambda **kwargs: h_dask.DaskExecutor(client=dask_client, **kwargs)


def test_fan_out(checks, make, dask_client) -> None:
    executor = checks.fan_out(make)
    assert executor.capacity == 4
    assert dask_client.status == "running"


def test_nested_fan_out(checks, make) -> None:
    checks.nested(make)


def test_several_collects(checks, make) -> None:
    checks.several_collects(make)


def test_hooks_fire_with_task_ids(checks, make, tmp_path) -> None:
    checks.hooks(make, tmp_path)


def test_node_error_keeps_type_and_notes(checks, make) -> None:
    checks.error(make)


def test_every_task_on_the_cluster(checks, make) -> None:
    checks.everything_on_the_cluster(make)


def test_large_results_stay_on_the_workers(checks, make) -> None:
    checks.large_values(make)


def test_large_inputs_are_scattered_once(checks, make) -> None:
    checks.shared_input(make)


def test_unserializable_input_is_named(checks, make) -> None:
    checks.unserializable_input(make)


def test_killed_worker_is_retried(checks, make, tmp_path) -> None:
    checks.killed_worker_is_retried(make, tmp_path)


def test_modules_workers_cannot_import_go_by_value(checks, make, tmp_path) -> None:
    checks.modules_by_value(make, tmp_path, "dask_notebook_flow")


def test_retry_runs_items_again_on_the_workers(checks, make, tmp_path) -> None:
    checks.retry_per_item(make, tmp_path)


def test_worker_reports_reach_the_driver(checks, make) -> None:
    checks.worker_reports(make)


def test_ctrl_c_stops_the_run(checks, make, tmp_path) -> None:
    # Dask cannot stop a running task: keep it short so the shared cluster frees up.
    checks.interrupted(make, tmp_path, seconds=2.0)


def _recording_clusters(executor: h_dask.DaskExecutor) -> list[LocalCluster]:
    started: list[LocalCluster] = []
    init = executor.init

    def recording_init() -> None:
        init()
        started.append(executor._cluster)  # type: ignore[arg-type]

    executor.init = recording_init  # type: ignore[method-assign]
    return started


def test_cluster_started_for_the_run_is_closed_when_a_worker_dies(checks) -> None:
    executor = h_dask.DaskExecutor(max_retries=0, cluster_kwargs={"n_workers": 1})
    started = _recording_clusters(executor)
    with checks.repository_on_pythonpath():
        # the limit includes starting the cluster
        error = checks.killed_worker_fails_fast(executor, h_dask.DaskExecutionError, limit=30)
    assert "KilledWorker" in repr(error.__cause__)
    assert len(started) == 1 and started[0].status.name == "closed"
    assert executor._cluster is None


def test_cluster_started_for_the_run_is_closed_after_success(checks) -> None:
    executor = h_dask.DaskExecutor(cluster_kwargs={"n_workers": 2})
    started = _recording_clusters(executor)
    with checks.repository_on_pythonpath():
        dr = checks.build(executor, checks.module(checks.sources["fan_out"]))
        assert dr.execute(["total"], inputs={"n": 20}) == {"total": sum(i * i for i in range(20))}
    assert started[0].status.name == "closed"


def test_connects_to_a_running_cluster_by_address(checks, dask_client) -> None:
    address = dask_client.scheduler.address
    with Client(address, set_as_default=False) as client:
        executor = h_dask.DaskExecutor(client=client)
        dr = checks.build(executor, checks.module(checks.sources["fan_out"]))
        assert dr.execute(["total"], inputs={"n": 10}) == {"total": 285}
        assert client.status == "running", "a client given by the caller must stay open"


def test_max_retries_needs_an_executor_started_cluster(dask_client) -> None:
    with pytest.raises(ValueError, match="allowed-failures"):
        h_dask.DaskExecutor(client=dask_client, max_retries=1)


# ---- node-level adapter -----------------------------------------------------------------
PANDAS_FLOW = """
import pandas as pd

def spend(n: int) -> pd.Series:
    return pd.Series([float(i) for i in range(n)])

def signups(n: int) -> pd.Series:
    return pd.Series([i + 1 for i in range(n)])

def avg_spend(spend: pd.Series) -> pd.Series:
    return spend.rolling(2, min_periods=1).mean()

def spend_per_signup(spend: pd.Series, signups: pd.Series) -> pd.Series:
    return spend / signups

def broken(spend: pd.Series) -> pd.Series:
    raise KeyError("no such column")
"""


def _expected_frame():
    import pandas as pd

    spend = pd.Series([0.0, 1.0, 2.0, 3.0, 4.0])
    signups = pd.Series([1, 2, 3, 4, 5])
    return pd.DataFrame(
        {
            "spend": spend,
            "signups": signups,
            "avg_spend": spend.rolling(2, min_periods=1).mean(),
            "spend_per_signup": spend / signups,
        }
    )


OUTPUTS = ["spend", "signups", "avg_spend", "spend_per_signup"]


@pytest.mark.parametrize("use_delayed", [True, False])
def test_graph_adapter_runs_a_pandas_dataflow(dask_client, use_delayed) -> None:
    import pandas as pd

    adapter = h_dask.DaskGraphAdapter(
        dask_client, result_builder=base.PandasDataFrameResult(), use_delayed=use_delayed
    )
    flow = ad_hoc_utils.module_from_source(PANDAS_FLOW)
    dr = driver.Builder().with_modules(flow).with_adapters(adapter).build()
    pd.testing.assert_frame_equal(dr.execute(OUTPUTS, inputs={"n": 5}), _expected_frame())


def test_graph_adapter_can_return_the_lazy_result(dask_client) -> None:
    from dask.delayed import Delayed

    adapter = h_dask.DaskGraphAdapter(
        dask_client, result_builder=base.DictResult(), compute_at_end=False
    )
    flow = ad_hoc_utils.module_from_source(PANDAS_FLOW)
    lazy = (
        driver.Builder()
        .with_modules(flow)
        .with_adapters(adapter)
        .build()
        .execute(["avg_spend"], inputs={"n": 3})
    )
    assert isinstance(lazy, Delayed)
    assert list(dask_client.compute(lazy).result()["avg_spend"]) == [0.0, 0.5, 1.5]


def test_graph_adapter_node_error_keeps_type_and_notes(dask_client) -> None:
    adapter = h_dask.DaskGraphAdapter(dask_client, result_builder=base.DictResult())
    flow = ad_hoc_utils.module_from_source(PANDAS_FLOW)
    dr = driver.Builder().with_modules(flow).with_adapters(adapter).build()
    with pytest.raises(KeyError) as info:
        dr.execute(["broken"], inputs={"n": 3})
    assert type(info.value) is KeyError
    assert any("while computing node 'broken'" in n for n in info.value.__notes__)


def test_graph_adapter_type_checks_accept_lazy_values() -> None:
    import pandas as pd
    from dask import delayed

    assert h_dask.DaskGraphAdapter.check_input_type(int, delayed(1))
    assert h_dask.DaskGraphAdapter.check_input_type(pd.Series, pd.Series([1]))
    assert not h_dask.DaskGraphAdapter.check_input_type(int, "x")
    assert h_dask.DaskGraphAdapter.check_node_type_equivalence(pd.Series, pd.Series)


def test_dask_dataframe_result() -> None:
    dd = pytest.importorskip("dask.dataframe")
    import pandas as pd

    frame = h_dask.DaskDataFrameResult.build_result(
        a=pd.Series([1, 2, 3]), b=pd.DataFrame({"x": [4, 5, 6]}), c=7
    )
    assert isinstance(frame, dd.DataFrame)
    computed = frame.compute()
    assert list(computed.columns) == ["a", "b.x", "c"]
    assert list(computed["c"]) == [7, 7, 7]
    with pytest.raises(ValueError):
        h_dask.DaskDataFrameResult.build_result()
