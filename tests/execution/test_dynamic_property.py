"""Property test: random graphs of nested fan-outs give the reference results on every executor.

Hypothesis draws a random tree of blocks. Each block has an expander (generator or list,
0-4 items), a small chain or diamond of integer functions (reading the item, values of the
enclosing items and outside inputs), possibly nested blocks, and one or two fan-in nodes
computing a sum or a list (several Collect parameters, extra plain parameters, and the
"normalize" pattern where block nodes read a fan-in of their own block). Function source is
generated and built with ``module_from_source``. A direct recursive evaluator computes the
expected value of every requested node, nested lists for nodes inside blocks; a second test
adds random overrides (any node, expanders included).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cayley import ad_hoc_utils
from cayley.execution import grouping
from tests.resources.dyn_harness import build

HELPERS = '''
from cayley.htypes import Collect, Parallelizable


def _v(x):
    """Folds an int or a (nested) list into an int."""
    if isinstance(x, int):
        return x
    return (sum(_v(y) for y in x) * 3 + len(x)) % 1009
'''

MAX_DEPTH = 3  # fan-outs nested at most this deep


@dataclass
class Fn:
    name: str
    kind: str  # "compute", "expand" or "collect"
    params: list[tuple[str, bool]]  # (dependency, collected?)
    source: str
    returns_list: bool = False


@dataclass
class Spec:
    fns: list[Fn] = field(default_factory=list)
    inputs: dict[str, int] = field(default_factory=dict)
    scope: dict[str, tuple[str, ...]] = field(default_factory=dict)
    counter: int = 0

    def fresh(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def is_list(self, name: str) -> bool:
        return any(f.name == name and f.returns_list for f in self.fns)

    def annotation(self, name: str) -> str:
        return "list" if self.is_list(name) else "int"

    @property
    def source(self) -> str:
        return HELPERS + "\n\n" + "\n\n".join(f.source for f in self.fns) + "\n"

    def by_name(self) -> dict[str, Fn]:
        return {f.name: f for f in self.fns}


def _signature(spec: Spec, params: list[tuple[str, bool]]) -> str:
    parts = []
    for name, collected in params:
        ann = spec.annotation(name)
        parts.append(f"{name}: Collect[{ann}]" if collected else f"{name}: {ann}")
    return ", ".join(parts)


def _add(spec: Spec, fn: Fn, scope: tuple[str, ...]) -> None:
    spec.fns.append(fn)
    spec.scope[fn.name] = scope


def _compute(draw, spec: Spec, scope, local: list[str], visible: list[str]) -> str:
    """A block (or root) node: first argument from this scope, maybe a second from anywhere."""
    name = spec.fresh("node")
    first = draw(st.sampled_from(local if scope else visible))
    params = [first]
    if draw(st.booleans()):
        second = draw(st.sampled_from(visible))
        if second != first:
            params.append(second)
    k = [draw(st.integers(1, 7)) for _ in range(3)]
    terms = " + ".join(f"_v({p}) * {c}" for p, c in zip(params, k))
    source = (
        f"def {name}({_signature(spec, [(p, False) for p in params])}) -> int:\n"
        f"    return ({terms} + {k[2]}) % 1009"
    )
    _add(spec, Fn(name, "compute", [(p, False) for p in params], source), scope)
    return name


def _collector(draw, spec: Spec, scope, child_local: list[str], visible: list[str]) -> str:
    """A fan-in: one or two Collect parameters, maybe a plain one; sum or list."""
    name = spec.fresh("gather")
    collected = draw(st.lists(st.sampled_from(child_local), min_size=1, max_size=2, unique=True))
    params = [(c, True) for c in collected]
    if draw(st.booleans()):
        params.append((draw(st.sampled_from(visible)), False))
    as_list = draw(st.booleans())
    extra = [p for p, c in params if not c]
    plus = f" + _v({extra[0]})" if extra else ""
    if as_list:
        body = " + ".join(f"[_v(x) * {i + 1}{plus} for x in {c}]" for i, c in enumerate(collected))
        source = f"def {name}({_signature(spec, params)}) -> list:\n    return {body}"
    else:
        body = " + ".join(f"sum(_v(x) for x in {c}) * {i + 2}" for i, c in enumerate(collected))
        source = f"def {name}({_signature(spec, params)}) -> int:\n    return ({body}{plus}) % 1009"
    _add(spec, Fn(name, "collect", params, source, returns_list=as_list), scope)
    return name


def _block(draw, spec: Spec, scope, local: list[str], visible: list[str]) -> list[str]:
    """An expander in ``scope``, its block, and the fan-ins back in ``scope``."""
    name = spec.fresh("fan")
    source_arg = draw(st.sampled_from(local if scope else visible))
    params = [source_arg]
    count = f"_v({source_arg}) % 5"
    if draw(st.booleans()):
        width = spec.fresh("width")
        spec.inputs[width] = draw(st.integers(0, 3))
        spec.scope[width] = ()
        params.append(width)
        count = f"(_v({source_arg}) + {width}) % 5"
    c1, c2 = draw(st.integers(1, 9)), draw(st.integers(1, 9))
    item = f"(_v({source_arg}) * {c1} + i * {c2}) % 97"
    signature = _signature(spec, [(p, False) for p in params])
    if draw(st.booleans()):
        body = f"    for i in range({count}):\n        yield {item}"
    else:
        body = f"    return [{item} for i in range({count})]"
    source = f"def {name}({signature}) -> Parallelizable[int]:\n{body}"
    _add(spec, Fn(name, "expand", [(p, False) for p in params], source), scope)

    child = scope + (name,)
    child_local = [name]
    _body(draw, spec, child, child_local, visible + [name])
    gathered = [
        _collector(draw, spec, scope, child_local, visible) for _ in range(draw(st.integers(1, 2)))
    ]
    if draw(st.integers(0, 3)) == 0:
        # normalize pattern: block nodes reading a fan-in of their own block, gathered again
        reentry = _compute_with(draw, spec, child, child_local, draw(st.sampled_from(gathered)))
        gathered.append(_collector(draw, spec, scope, [reentry], visible + gathered))
    return gathered


def _compute_with(draw, spec: Spec, scope, local: list[str], outside: str) -> str:
    name = spec.fresh("norm")
    first = draw(st.sampled_from(local))
    params = [first, outside]
    source = (
        f"def {name}({_signature(spec, [(p, False) for p in params])}) -> int:\n"
        f"    return (_v({first}) * 1000 // (_v({outside}) + 1)) % 1009"
    )
    _add(spec, Fn(name, "compute", [(p, False) for p in params], source), scope)
    local.append(name)
    return name


def _body(draw, spec: Spec, scope, local: list[str], visible: list[str]) -> None:
    for _ in range(draw(st.integers(1, 3))):
        nested = len(scope) < MAX_DEPTH and draw(st.integers(0, 2)) == 0
        if nested:
            for name in _block(draw, spec, scope, local, visible):
                local.append(name)
                visible.append(name)
        else:
            name = _compute(draw, spec, scope, local, visible)
            local.append(name)
            visible.append(name)


@st.composite
def graphs(draw) -> tuple[Spec, list[str]]:
    spec = Spec()
    for i in range(draw(st.integers(1, 2))):
        spec.inputs[f"in{i}"] = draw(st.integers(0, 30))
        spec.scope[f"in{i}"] = ()
    visible = list(spec.inputs)
    local = list(spec.inputs)
    # at least one top-level block, then a random body
    for name in _block(draw, spec, (), local, visible):
        local.append(name)
        visible.append(name)
    _body(draw, spec, (), local, visible)
    computed = [f.name for f in spec.fns]
    at_root = [n for n in computed if not spec.scope[n]]
    inside = [n for n in computed if spec.scope[n]]
    extra = draw(st.lists(st.sampled_from(inside), max_size=2, unique=True)) if inside else []
    return spec, at_root + extra


# ---- the reference evaluator ---------------------------------------------------------------------
class Reference:
    """Evaluates node ``name`` for the item path ``path`` (one index per enclosing fan-out)."""

    def __init__(self, spec: Spec, module: Any, overrides: dict[str, Any] | None = None) -> None:
        self.spec = spec
        self.fns = spec.by_name()
        self.module = module
        self.overrides = overrides or {}
        self.memo: dict[tuple[str, tuple[int, ...]], Any] = {}

    def items(self, expander: str, path: tuple[int, ...]) -> list[Any]:
        return self.value(expander, path)

    def arg(self, dep: str, path: tuple[int, ...]) -> Any:
        if dep in self.spec.inputs:
            return self.spec.inputs[dep]
        depth = len(self.spec.scope[dep])
        if self.fns[dep].kind == "expand":
            return self.items(dep, path[:depth])[path[depth]]
        return self.value(dep, path[:depth])

    def value(self, name: str, path: tuple[int, ...]) -> Any:
        if name in self.overrides:  # the same value for every item; an expander's items
            value = self.overrides[name]
            return list(value) if self.fns[name].kind == "expand" else value
        key = (name, path)
        if key in self.memo:
            return self.memo[key]
        fn = self.fns[name]
        kwargs = {}
        for dep, collected in fn.params:
            if not collected:
                kwargs[dep] = self.arg(dep, path)
            elif self.fns[dep].kind == "expand":
                kwargs[dep] = list(self.items(dep, path))
            else:
                expander = self.spec.scope[dep][-1]
                count = len(self.items(expander, path))
                kwargs[dep] = [self.value(dep, path + (i,)) for i in range(count)]
        result = getattr(self.module, name)(**kwargs)
        if fn.kind == "expand":
            result = list(result)
        self.memo[key] = result
        return result

    def output(self, name: str, path: tuple[int, ...] = ()) -> Any:
        if name in self.overrides and self.fns[name].kind != "expand":
            return self.overrides[name]  # an overridden value comes back as given
        scope = self.spec.scope[name]
        if len(path) == len(scope):
            return self.value(name, path)
        count = len(self.items(scope[len(path)], path))
        return [self.output(name, path + (i,)) for i in range(count)]


def _check(
    spec: Spec,
    outputs: list[str],
    kinds,
    strategy=None,
    min_items: int = 0,
    overrides: dict[str, Any] | None = None,
    everything_remote: bool = False,
) -> None:
    module = ad_hoc_utils.module_from_source(spec.source)
    reference = Reference(spec, module, overrides)
    expected = {name: reference.output(name) for name in outputs}
    block_values = sum(1 for _, path in reference.memo if path)
    assume(block_values >= min_items)
    for kind in kinds:
        options = {} if kind == "plain" else {"strategy": strategy}
        if everything_remote:
            options["everything_remote"] = True
        dr = build(kind, module, **options)
        got = dr.execute(outputs, inputs=dict(spec.inputs), overrides=dict(overrides or {}))
        assert got == expected, f"{kind} differs for\n{spec.source}\noverrides={overrides}"


@st.composite
def graphs_with_overrides(draw) -> tuple[Spec, list[str], dict[str, Any]]:
    """Overrides of any computed node: inside blocks the value is used for every item; an
    overridden expander takes its items from the override."""
    spec, outputs = draw(graphs())
    candidates = spec.fns
    chosen = draw(
        st.lists(st.sampled_from(candidates), min_size=1, max_size=2, unique_by=lambda f: f.name)
    )
    overrides: dict[str, Any] = {}
    for fn in chosen:
        if fn.kind == "expand" or fn.returns_list:
            overrides[fn.name] = draw(st.lists(st.integers(0, 50), max_size=4))
        else:
            overrides[fn.name] = draw(st.integers(0, 50))
    return spec, outputs, overrides


STRATEGIES = st.sampled_from(
    [None, grouping.GroupNodesIndividually(), grouping.GroupNodesByLevel()]
)


@settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(graphs(), STRATEGIES)
def test_random_nested_fan_outs_match_the_reference(graph, strategy):
    spec, outputs = graph
    _check(spec, outputs, ("plain", "sync", "threads"), strategy)


@settings(
    max_examples=30,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(graphs_with_overrides(), STRATEGIES)
def test_random_overrides_match_the_reference(graph, strategy):
    spec, outputs, overrides = graph
    _check(spec, outputs, ("plain", "sync", "threads"), strategy, overrides=overrides)


@pytest.mark.timeout(60)
@settings(
    max_examples=6,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(graphs_with_overrides(), st.booleans(), st.booleans())
def test_random_nested_fan_outs_on_fork_processes(graph, use_overrides, everything_remote):
    """Blocks on processes; sometimes every task (expanders, fan-ins) on processes too."""
    spec, outputs, overrides = graph
    _check(
        spec,
        outputs,
        ("fork",),
        min_items=4,
        overrides=overrides if use_overrides else None,
        everything_remote=everything_remote,
    )


@pytest.mark.timeout(60)
@settings(
    max_examples=2,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(graphs())
def test_random_nested_fan_outs_on_spawn_processes(graph):
    spec, outputs = graph
    _check(spec, outputs, ("spawn",), min_items=4)


def test_the_generator_covers_the_interesting_shapes():
    """Sanity check of the graph generator itself, on a fixed (derandomized) sample."""
    seen: set[str] = set()

    @settings(max_examples=150, deadline=None, database=None, derandomize=True)
    @given(graphs())
    def sample(graph):
        spec, outputs = graph
        fns = spec.by_name()
        if max(len(s) for s in spec.scope.values()) >= 3:
            seen.add("three levels")
        for fn in spec.fns:
            collected = [d for d, c in fn.params if c]
            if len(collected) >= 2:
                seen.add("several Collect parameters")
            if any(fns[d].kind == "expand" for d in collected):
                seen.add("items collected")
            if fn.kind == "collect" and not all(c for _, c in fn.params):
                seen.add("fan-in with a plain parameter")
            if fn.returns_list:
                seen.add("list fan-in")
            if fn.name.startswith("norm"):
                seen.add("normalize")
            if fn.kind == "expand":
                seen.add("generator" if "yield" in fn.source else "list expander")
        if any(spec.scope[o] for o in outputs):
            seen.add("block node requested")
        module = ad_hoc_utils.module_from_source(spec.source)
        reference = Reference(spec, module)
        for name in outputs:
            reference.output(name)
        if any(
            f.kind == "expand" and v == []
            for (f_name, _), v in reference.memo.items()
            for f in [fns[f_name]]
        ):
            seen.add("empty fan-out")

    sample()
    assert seen == {
        "three levels",
        "several Collect parameters",
        "items collected",
        "fan-in with a plain parameter",
        "list fan-in",
        "normalize",
        "generator",
        "list expander",
        "block node requested",
        "empty fan-out",
    }
