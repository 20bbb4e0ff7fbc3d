"""Property test: random integer dataflows agree with a direct recursive evaluation.

Each generated dataflow has a few inputs ``x0..`` and nodes ``n0..``; node ``n{i}`` adds up
some inputs and earlier nodes plus a constant. Some parameters have defaults: for an input
the default applies when the input is absent, for a node it never does. Each example also
draws the requested outputs, which inputs are provided and which nodes are overridden;
the task-based (dynamic) engine must agree too, and so must the graph queries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from cayley.ad_hoc_utils import module_from_source
from cayley.driver import Builder
from cayley.execution.plan import MissingInputsError


@dataclass
class NodeSpec:
    name: str
    params: list[str]  # required parameters first, then those with defaults
    defaults: dict[str, int]
    constant: int


@dataclass
class Case:
    input_names: list[str]
    nodes: dict[str, NodeSpec]
    outputs: list[str]
    inputs: dict[str, int] = field(default_factory=dict)
    overrides: dict[str, int] = field(default_factory=dict)

    def source(self) -> str:
        lines = []
        for spec in self.nodes.values():
            params = [
                f"{p}: int = {spec.defaults[p]}" if p in spec.defaults else f"{p}: int"
                for p in spec.params
            ]
            terms = [*spec.params, str(spec.constant)]
            lines.append(f"def {spec.name}({', '.join(params)}) -> int:")
            lines.append(f"    return {' + '.join(terms)}")
            lines.append("")
        return "\n".join(lines)


class Missing(Exception):
    """The reference evaluator needed inputs that were not provided."""

    def __init__(self, names: set[str]) -> None:
        super().__init__(sorted(names))
        self.names = names


def reference(case: Case) -> dict[str, int]:
    """Evaluates the requested outputs by plain recursion (the graphs are small)."""
    cache: dict[str, int] = {}
    missing: set[str] = set()

    def value_of(name: str) -> int | None:
        if name in case.overrides:
            return case.overrides[name]
        if name in cache:
            return cache[name]
        if name not in case.nodes:  # an input, needed by a required parameter
            if name in case.inputs:
                return case.inputs[name]
            missing.add(name)
            return None
        spec = case.nodes[name]
        total = spec.constant
        complete = True
        for param in spec.params:
            is_input = param not in case.nodes
            if (
                is_input
                and param in spec.defaults
                and param not in case.inputs
                and param not in case.overrides
            ):
                total += spec.defaults[param]
                continue
            value = value_of(param)
            if value is None:
                complete = False
            else:
                total += value
        if not complete:
            return None
        cache[name] = total
        return total

    results = {name: value_of(name) for name in case.outputs}
    if missing:
        raise Missing(missing)
    return results  # type: ignore[return-value]


@st.composite
def cases(draw: st.DrawFn) -> Case:
    input_names = [f"x{i}" for i in range(draw(st.integers(1, 4)))]
    node_count = draw(st.integers(1, 25))
    nodes: dict[str, NodeSpec] = {}
    for i in range(node_count):
        candidates = input_names + [f"n{j}" for j in range(i)]
        params = draw(st.lists(st.sampled_from(candidates), unique=True, max_size=4))
        with_default = [p for p in params if draw(st.integers(0, 3)) == 0]
        required = [p for p in params if p not in with_default]
        defaults = {p: draw(st.integers(-20, 20)) for p in with_default}
        nodes[f"n{i}"] = NodeSpec(
            name=f"n{i}",
            params=required + with_default,
            defaults=defaults,
            constant=draw(st.integers(-50, 50)),
        )
    # Inputs nobody consumes are not part of the graph, so only consumed ones may be outputs.
    consumed = sorted({p for spec in nodes.values() for p in spec.params if p in input_names})
    outputs = draw(
        st.lists(st.sampled_from(sorted(nodes) + consumed), min_size=1, max_size=5, unique=True)
    )
    provided = draw(st.lists(st.sampled_from(input_names), unique=True))
    inputs = {name: draw(st.integers(-100, 100)) for name in provided}
    overridden = draw(st.lists(st.sampled_from(sorted(nodes)), unique=True, max_size=3))
    overrides = {name: draw(st.integers(-100, 100)) for name in overridden}
    return Case(input_names, nodes, outputs, inputs, overrides)


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(cases())
def test_execute_matches_the_reference_evaluator(case: Case) -> None:
    module = module_from_source(case.source())
    dr = Builder().with_modules(module).build()
    try:
        expected: Any = reference(case)
    except Missing as exc:
        event("missing inputs")
        with pytest.raises(MissingInputsError) as info:
            dr.execute(case.outputs, inputs=case.inputs, overrides=case.overrides)
        message = str(info.value)
        for name in exc.names:
            assert f"Required input {name} not provided" in message
        assert f"{len(exc.names)} errors encountered" in message
        return
    event("computed")
    event(f"overrides: {bool(case.overrides)}")
    result = dr.execute(case.outputs, inputs=case.inputs, overrides=case.overrides)
    assert result == expected
    assert list(result) == list(dict.fromkeys(case.outputs))
    # The same request again reuses the cached plan and gives the same answer.
    assert dr.execute(case.outputs, inputs=case.inputs, overrides=case.overrides) == expected
    assert len(dr._plans) == 1
    # Task-based (dynamic) execution agrees on graphs without fan-out.
    dynamic = Builder().with_modules(module).enable_dynamic_execution().build()
    assert dynamic.execute(case.outputs, inputs=case.inputs, overrides=case.overrides) == expected


def closure(case: Case, start: str, downstream: bool) -> set[str]:
    edges: dict[str, set[str]] = {}
    for spec in case.nodes.values():
        for param in spec.params:
            source, target = (param, spec.name) if downstream else (spec.name, param)
            edges.setdefault(source, set()).add(target)
    seen, stack = set(), [start]
    while stack:
        name = stack.pop()
        if name not in seen:
            seen.add(name)
            stack.extend(edges.get(name, ()))
    return seen


@settings(max_examples=30, deadline=None, derandomize=True, database=None)
@given(cases())
def test_graph_queries_match_the_reference(case: Case) -> None:
    dr = Builder().with_modules(module_from_source(case.source())).build()
    for name in case.outputs:
        upstream = {n.name for n in dr.what_is_upstream_of(name)}
        downstream = {n.name for n in dr.what_is_downstream_of(name)}
        assert upstream == closure(case, name, downstream=False)
        assert downstream == closure(case, name, downstream=True)
    first, last = case.outputs[0], case.outputs[-1]
    path = {n.name for n in dr.what_is_the_path_between(first, last)}
    assert path == closure(case, first, downstream=True) & closure(case, last, downstream=False)


def test_reference_evaluator_sanity() -> None:
    case = Case(
        input_names=["x0", "x1"],
        nodes={
            "n0": NodeSpec("n0", ["x0"], {}, 1),
            "n1": NodeSpec("n1", ["n0", "x1"], {"x1": 5}, 0),
        },
        outputs=["n1"],
        inputs={"x0": 2},
    )
    assert reference(case) == {"n1": 8}
    case.inputs = {"x0": 2, "x1": 1}
    assert reference(case) == {"n1": 4}
    case.inputs = {}
    with pytest.raises(Missing):
        reference(case)
    case.overrides = {"n0": 10}
    assert reference(case) == {"n1": 15}
    dr = Builder().with_modules(module_from_source(case.source())).build()
    assert dr.execute(["n1"], overrides={"n0": 10}) == {"n1": 15}
