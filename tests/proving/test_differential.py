"""Differential fuzzing: random dataflows give the reference's values on every local executor.

Hypothesis draws a dataflow (:mod:`tests.proving.strategies`) and a request of it; the
module source is generated, built with ``module_from_source`` and executed on the plain
driver and with dynamic execution on the synchronous executor (under every grouping
strategy), on threads and on fork processes (sometimes with every task on the processes).
:class:`~tests.proving.flows.Reference` interprets the same spec directly. Missing inputs
must fail the same way everywhere, naming each input.

The examples are derandomized: every run checks the same graphs. ``CAYLEY_FUZZ=deep``
draws ten times as many fresh ones.
"""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from cayley.execution import executors
from tests.proving import engines
from tests.proving.flows import Flow
from tests.proving.strategies import FULL, PLAIN, Request, cases, fuzz_settings

THREADS = executors.MultiThreadingExecutor(2)
FORK = executors.MultiProcessingExecutor(2, start_method="fork")


def _events(flow: Flow, request: Request) -> None:
    """Shape statistics (``pytest --hypothesis-show-statistics``)."""
    depth = max((len(n.scope) for n in flow.nodes.values()), default=0)
    event(f"nesting depth {depth}")
    if any(flow.scope_of(o) for o in request.outputs):
        event("block node requested")
    if any(flow.scope_of(o) or flow.nodes[o].expands for o in request.overrides):
        event("block node or expander overridden")


@fuzz_settings(120)
@given(cases(PLAIN), st.sampled_from(sorted(engines.STRATEGIES)))
def test_graphs_without_fan_out_agree(case, strategy):
    flow, request = case
    module = engines.module_of(flow)
    drivers = {
        "plain driver": engines.plain_driver(module),
        f"sync, grouping {strategy}": engines.dynamic_driver(
            module, executors.SynchronousLocalTaskExecutor(), strategy
        ),
    }
    engines.check(flow, request, drivers)


@fuzz_settings(250)
@given(cases(FULL), st.sampled_from(sorted(engines.STRATEGIES)))
def test_fan_outs_agree_on_sync_and_threads(case, strategy):
    flow, request = case
    _events(flow, request)
    module = engines.module_of(flow)
    drivers = {
        "plain driver": engines.plain_driver(module),
        f"sync, grouping {strategy}": engines.dynamic_driver(
            module, executors.SynchronousLocalTaskExecutor(), strategy
        ),
        "threads": engines.dynamic_driver(module, THREADS),
    }
    engines.check(flow, request, drivers)


@pytest.mark.timeout(120)
@fuzz_settings(100)
@given(cases(FULL), st.booleans())
def test_fan_outs_agree_on_fork_processes(case, everything_remote):
    flow, request = case
    _events(flow, request)
    module = engines.module_of(flow)
    label = "fork processes" + (", every task" if everything_remote else "")
    drivers = {label: engines.dynamic_driver(module, FORK, everything_remote=everything_remote)}
    engines.check(flow, request, drivers)


def test_the_generator_draws_every_shape():
    """The derandomized sample covers the shapes the differential tests are meant to try."""
    seen: Counter[str] = Counter()

    @fuzz_settings(150)
    @given(cases(FULL))
    def sample(case):
        flow, request = case
        nodes = flow.nodes
        for node in nodes.values():
            collected = [p.name for p in node.params if p.mode == "collect"]
            blocks = {nodes[c].inner for c in collected}
            if len(collected) >= 2:
                seen["several Collect parameters"] += 1
            if len(blocks) >= 2:
                seen["Collect of sibling blocks"] += 1
            if any(nodes[c].expands for c in collected):
                seen["Collect of the items"] += 1
            if node.kind == "regroup":
                seen["collect then fan out"] += 1
            if node.name.startswith("norm"):
                seen["block node reads its own fan-in"] += 1
            if len(node.scope) >= 3:
                seen["three levels of nesting"] += 1
            if any(p.mode == "optional" for p in node.params):
                seen["optional parameter"] += 1
            if node.expands and not node.generator:
                seen["expander returning a list"] += 1
        for name in request.overrides:
            if name in nodes and nodes[name].expands:
                seen["overridden expander"] += 1
            elif name in nodes and nodes[name].scope:
                seen["overridden block node"] += 1
        if any(flow.scope_of(o) for o in request.outputs):
            seen["block node requested"] += 1
        values, missing = engines.expected(flow, request)
        if missing:
            seen["missing input"] += 1
        elif any(v == [] for v in values.values()):
            seen["empty fan-out"] += 1
        optional_inputs = [n for n, required in flow.inputs.items() if not required]
        if any(n not in request.inputs for n in optional_inputs):
            seen["optional input left out"] += 1
        if any(n in request.inputs for n in optional_inputs):
            seen["optional input given"] += 1

    sample()
    wanted = {
        "several Collect parameters",
        "Collect of sibling blocks",
        "Collect of the items",
        "collect then fan out",
        "block node reads its own fan-in",
        "three levels of nesting",
        "optional parameter",
        "expander returning a list",
        "overridden expander",
        "overridden block node",
        "block node requested",
        "missing input",
        "empty fan-out",
        "optional input left out",
        "optional input given",
    }
    assert wanted <= set(seen), f"never drawn: {sorted(wanted - set(seen))}"
    assert seen["missing input"] < 40, "too many requests end in a missing-input error"
