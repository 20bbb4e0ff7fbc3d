"""Modules workers cannot import travel by value; installed packages go by reference."""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import sys

import pytest

from cayley import ad_hoc_utils
from cayley.execution.modules import ByValueModules, modules_by_value, worker_can_import
from tests.engine.conftest import dynamic, make_executor, write_module

FLOW = """
from cayley.htypes import Collect, Parallelizable
import {helpers}

def items(n: int) -> Parallelizable[int]:
    yield from range(n)

def doubled(items: int) -> int:
    return {helpers}.double(items)

def total(doubled: Collect[int]) -> int:
    return sum(doubled)
"""

HELPERS = """
def double(value):
    return 2 * value
"""


def _load_from_file(path, name):
    """The notebook way: a module executed from a file its name cannot be imported by."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def runtime_dir(tmp_path, monkeypatch):
    """A directory added to ``sys.path`` while the program runs (as notebooks do)."""
    directory = tmp_path / "flows"
    directory.mkdir()
    monkeypatch.syspath_prepend(str(directory))
    yield directory
    for name in [n for n in sys.modules if n.startswith("rt_")]:
        del sys.modules[name]


def test_installed_and_standard_modules_go_by_reference():
    import numpy

    import cayley.driver

    for module in (json, numpy, cayley.driver, os):
        assert worker_can_import(module), module
    assert modules_by_value([json.dumps, numpy.sum, cayley.driver.Builder]) == []


def test_modules_made_at_run_time_go_by_value(runtime_dir, tmp_path):
    from_source = ad_hoc_utils.module_from_source("def f() -> int:\n    return 1\n")
    write_module(runtime_dir, "rt_helpers", HELPERS)
    imported = importlib.import_module("rt_helpers")
    path = write_module(tmp_path / "elsewhere", "notebook_flow", FLOW.format(helpers="rt_helpers"))
    loaded = _load_from_file(path, "rt_loaded_flow")
    assert not worker_can_import(from_source)
    assert not worker_can_import(imported)  # its directory was added to sys.path at run time
    assert not worker_can_import(loaded)  # found by no name a fresh interpreter resolves
    # A by-value module brings the run-time modules it uses along.
    names = {m.__name__ for m in modules_by_value([loaded.doubled])}
    assert names == {"rt_loaded_flow", "rt_helpers"}


def test_a_module_under_pythonpath_goes_by_reference(tmp_path, monkeypatch):
    directory = tmp_path / "on_path"
    write_module(directory, "rt_on_path", HELPERS)
    monkeypatch.setenv("PYTHONPATH", str(directory))
    monkeypatch.syspath_prepend(str(directory))
    module = importlib.import_module("rt_on_path")
    try:
        assert worker_can_import(module)
    finally:
        del sys.modules["rt_on_path"]


def test_registration_is_undone_after_the_run(runtime_dir):
    import cloudpickle

    write_module(runtime_dir, "rt_registered", HELPERS)
    module = importlib.import_module("rt_registered")
    registry = ByValueModules()
    registry.add([module.double])
    assert cloudpickle.list_registry_pickle_by_value() >= {"rt_registered"}
    registry.clear()
    assert "rt_registered" not in cloudpickle.list_registry_pickle_by_value()


@pytest.mark.timeout(90)
@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_file_loaded_and_runtime_path_modules_reach_every_process_start_method(
    method, runtime_dir, tmp_path, no_new_workers
):
    write_module(runtime_dir, "rt_helpers_pm", HELPERS)
    path = write_module(tmp_path / "nb", "nb_flow", FLOW.format(helpers="rt_helpers_pm"))
    flow = _load_from_file(path, f"rt_nb_flow_{method}")
    dr = dynamic(flow, make_executor(method))
    assert dr.execute(["total"], inputs={"n": 6}) == {"total": 30}
    # a second request on the same driver starts fresh workers and still works
    assert dr.execute(["total"], inputs={"n": 3}) == {"total": 6}
