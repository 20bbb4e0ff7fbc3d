"""cayley on a real local Ray instance: task executor and node-level graph adapter."""

from __future__ import annotations

import builtins
import importlib.util
import os
import subprocess
import sys

import pytest

ray = pytest.importorskip("ray")

from cayley import ad_hoc_utils, base, driver  # noqa: E402
from cayley.function_modifiers import ray_remote_options  # noqa: E402
from cayley.plugins import h_ray  # noqa: E402

pytestmark = pytest.mark.timeout(120)

RAY_OPTIONS = {"include_dashboard": False, "log_to_driver": False}


def test_core_imports_neither_ray_nor_dask(checks) -> None:
    code = (
        "import sys, cayley.driver, cayley.base, cayley.lifecycle\n"
        "print(sorted({'ray', 'dask', 'distributed'} & set(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=checks.root, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_missing_ray_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)
    spec = importlib.util.spec_from_file_location("h_ray_without_ray", h_ray.__file__)
    assert spec is not None and spec.loader is not None
    with pytest.raises(ImportError, match=r'pip install "cayley\[ray\]"'):
        spec.loader.exec_module(importlib.util.module_from_spec(spec))


def test_ray_started_for_the_run_is_shut_down_when_a_worker_dies(checks) -> None:
    """Runs before the module's cluster exists: the executor starts and stops its own Ray."""
    if ray.is_initialized():
        pytest.skip("Ray is already running in this session")
    executor = h_ray.RayTaskExecutor(num_cpus=2, ray_init_config=RAY_OPTIONS, max_retries=0)
    with checks.repository_on_pythonpath():
        error = checks.killed_worker_fails_fast(executor, h_ray.RayExecutionError, limit=60)
    assert "max_retries=0" in str(error)
    assert not ray.is_initialized()


@pytest.fixture(scope="module")
def ray_cluster(checks):
    """A local two-CPU Ray instance for the rest of the module."""
    with checks.repository_on_pythonpath():
        ray.init(num_cpus=2, **RAY_OPTIONS)
    yield ray
    kept = builtins.print
    ray.shutdown()
    builtins.print = kept  # Ray swaps print for its own on shutdown


@pytest.fixture
def make(ray_cluster):
    """Fresh executors on the module's Ray instance."""
    return lambda **kwargs: h_ray.RayTaskExecutor(**kwargs)


def test_fan_out(checks, make) -> None:
    executor = checks.fan_out(make)
    assert ray.is_initialized(), "an executor must not stop a Ray instance it did not start"
    assert executor.capacity == 4


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


def test_large_results_stay_in_the_object_store(checks, make) -> None:
    checks.large_values(make)


def test_large_inputs_are_put_once(checks, make) -> None:
    checks.shared_input(make)


def test_unserializable_input_is_named(checks, make) -> None:
    checks.unserializable_input(make)


def test_killed_worker_is_retried(checks, make, tmp_path) -> None:
    checks.killed_worker_is_retried(make, tmp_path)


def test_killed_worker_without_retries_fails_fast(checks, make) -> None:
    checks.killed_worker_fails_fast(make(max_retries=0), h_ray.RayExecutionError)
    assert ray.is_initialized()


def test_modules_workers_cannot_import_go_by_value(checks, make, tmp_path) -> None:
    checks.modules_by_value(make, tmp_path, "ray_notebook_flow")


def test_retry_runs_items_again_on_the_workers(checks, make, tmp_path) -> None:
    checks.retry_per_item(make, tmp_path)


def test_worker_reports_reach_the_driver(checks, make) -> None:
    checks.worker_reports(make)


def test_ctrl_c_stops_the_run(checks, make, tmp_path) -> None:
    checks.interrupted(make, tmp_path, seconds=10.0)


CLIENT_SCRIPT = """
import sys
import ray
from cayley import ad_hoc_utils, driver
from cayley.plugins import h_ray

flow = ad_hoc_utils.module_from_source(sys.argv[2])
executor = h_ray.RayTaskExecutor(ray_init_config={"address": sys.argv[1]})
dr = (
    driver.Builder().with_modules(flow).enable_dynamic_execution()
    .with_remote_executor(executor).build()
)
print(dr.execute(["total"], inputs={"n": 10})["total"], ray.is_initialized())
"""


def test_connects_to_a_running_cluster_by_address(checks, ray_cluster, tmp_path) -> None:
    address = ray.get_runtime_context().gcs_address
    script = tmp_path / "client.py"
    script.write_text(CLIENT_SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(checks.root)}
    out = subprocess.run(
        [sys.executable, str(script), address, checks.sources["fan_out"]],
        capture_output=True,
        text=True,
        env=env,
        timeout=100,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.split()[-2:] == ["285", "False"]
    assert ray.get(ray.put(1)) == 1, "disconnecting a client must leave the cluster running"


# ---- node-level adapter -----------------------------------------------------------------
PANDAS_FLOW = """
import pandas as pd
import ray

def spend(n: int) -> pd.Series:
    return pd.Series([float(i) for i in range(n)])

def signups(n: int) -> pd.Series:
    return pd.Series([i + 1 for i in range(n)])

def avg_spend(spend: pd.Series) -> pd.Series:
    return spend.rolling(2, min_periods=1).mean()

def spend_per_signup(spend: pd.Series, signups: pd.Series) -> pd.Series:
    return spend / signups

def resources(n: int) -> dict:
    return dict(ray.get_runtime_context().get_assigned_resources())

def lookup(n: int, table: list) -> int:
    return len(table) + n

def broken(spend: pd.Series) -> pd.Series:
    raise KeyError("no such column")
"""


def _pandas_flow():
    flow = ad_hoc_utils.module_from_source(PANDAS_FLOW)
    flow.resources = ray_remote_options(num_cpus=2)(flow.resources)
    return flow


def test_graph_adapter_runs_a_pandas_dataflow(ray_cluster) -> None:
    import pandas as pd

    flow = _pandas_flow()
    adapter = h_ray.RayGraphAdapter(result_builder=base.PandasDataFrameResult())
    dr = driver.Builder().with_modules(flow).with_adapters(adapter).build()
    frame = dr.execute(["spend", "signups", "avg_spend", "spend_per_signup"], inputs={"n": 5})
    spend = pd.Series([0.0, 1.0, 2.0, 3.0, 4.0])
    signups = pd.Series([1, 2, 3, 4, 5])
    expected = pd.DataFrame(
        {
            "spend": spend,
            "signups": signups,
            "avg_spend": spend.rolling(2, min_periods=1).mean(),
            "spend_per_signup": spend / signups,
        }
    )
    pd.testing.assert_frame_equal(frame, expected)


def test_graph_adapter_honours_ray_remote_options(ray_cluster) -> None:
    flow = _pandas_flow()
    adapter = h_ray.RayGraphAdapter(result_builder=base.DictResult())
    dr = driver.Builder().with_modules(flow).with_adapters(adapter).build()
    assert dr.execute(["resources"], inputs={"n": 1})["resources"].get("CPU") == 2.0
    assert h_ray.parse_ray_remote_options_from_tags(
        {"ray_remote.num_gpus": "1", "ray_remote.resources": '{"a": 2}', "other": "x"}
    ) == {"num_gpus": 1, "resources": {"a": 2}}


def test_graph_adapter_node_error_keeps_type_and_notes(ray_cluster) -> None:
    adapter = h_ray.RayGraphAdapter(result_builder=base.DictResult())
    dr = driver.Builder().with_modules(_pandas_flow()).with_adapters(adapter).build()
    with pytest.raises(KeyError) as info:
        dr.execute(["broken"], inputs={"n": 3})
    assert type(info.value) is KeyError
    assert any("while computing node 'broken'" in n for n in info.value.__notes__)


def test_graph_adapter_puts_large_inputs_once(ray_cluster) -> None:
    adapter = h_ray.RayGraphAdapter(
        result_builder=base.DictResult(), shutdown_ray_on_completion=False
    )
    dr = driver.Builder().with_modules(_pandas_flow()).with_adapters(adapter).build()
    table = list(range(200_000))
    assert dr.execute(["lookup"], inputs={"n": 1, "table": table}) == {"lookup": 200_001}
    assert adapter.do_validate_input(node_type=int, input_value=ray.put(3))
    assert not adapter.do_validate_input(node_type=int, input_value="3")
    with pytest.raises(ValueError, match="result builder"):
        h_ray.RayGraphAdapter(result_builder=None)
