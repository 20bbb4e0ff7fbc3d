"""The rewritten graphs ``Driver.materialize`` keeps: a changed request is never served stale.

A driver keeps the graph rewritten for a set of materializers (and that graph's plans) and
reuses it for an equal set. Each test makes a first request, then a second that differs in
one way, and checks the second's result against what a fresh driver computes.
"""

from __future__ import annotations

import dataclasses
import gc
import json
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Any

import pytest

from cayley import base, registry
from cayley.function_modifiers import source, value
from cayley.io.data_adapters import DataSaver
from cayley.io.default_data_loaders import JSONDataSaver
from cayley.io.materialization import from_, to
from cayley.node import Node
from tests.io.helpers import build, module_of

FLOW = module_of(
    """
def a(x: int) -> int:
    return x + 1

def b(a: int) -> int:
    return a * 2

def c(a: int, b: int) -> dict:
    return {"a": a, "b": b}

def d(b: int) -> dict:
    return {"d": b}

def target_name() -> str:
    return "from-node.json"
"""
)


def _read(path: Path) -> Any:
    return json.loads(path.read_text())


@dataclasses.dataclass
class ListSaver(DataSaver):
    """Appends what it saves to the list it is given."""

    sink: list

    @classmethod
    def applicable_types(cls) -> Collection[type]:
        return [dict]

    @classmethod
    def name(cls) -> str:
        return "into_list"

    def save_data(self, data: Any) -> dict[str, Any]:
        self.sink.append(data)
        return {"items": len(self.sink)}


@pytest.fixture
def list_saver() -> Iterator[None]:
    registry.register_adapter(ListSaver)
    yield
    del registry.SAVER_REGISTRY["into_list"]


def test_a_new_mutable_argument_gets_a_new_graph(list_saver: None) -> None:
    # Two empty lists are equal but are not the same sink: the second run must fill the
    # second list, not the one the first graph holds.
    dr = build(FLOW)
    first: list = []
    second: list = []
    dr.materialize(to.into_list(id="s", dependencies=["c"], sink=first), inputs={"x": 1})
    dr.materialize(to.into_list(id="s", dependencies=["c"], sink=second), inputs={"x": 2})
    assert first == [{"a": 2, "b": 4}]
    assert second == [{"a": 3, "b": 6}]


def test_the_same_mutable_argument_is_the_same_object(list_saver: None) -> None:
    dr = build(FLOW)
    sink: list = []
    for x in (1, 2):
        metadata, _ = dr.materialize(
            to.into_list(id="s", dependencies=["c"], sink=sink), inputs={"x": x}
        )
    assert sink == [{"a": 2, "b": 4}, {"a": 3, "b": 6}]
    assert metadata == {"s": {"items": 2}}


def test_another_path_format_or_dependency_is_another_graph(tmp_path: Path) -> None:
    dr = build(FLOW)
    dr.materialize(
        to.json(id="s", dependencies=["c"], path=str(tmp_path / "one.json")), inputs={"x": 1}
    )
    dr.materialize(
        to.json(id="s", dependencies=["c"], path=str(tmp_path / "two.json")), inputs={"x": 1}
    )
    dr.materialize(
        to.json(id="s", dependencies=["d"], path=str(tmp_path / "three.json")), inputs={"x": 1}
    )
    dr.materialize(
        to.pickle(id="s", dependencies=["d"], path=str(tmp_path / "four.pkl")), inputs={"x": 1}
    )
    assert _read(tmp_path / "one.json") == {"a": 2, "b": 4}
    assert _read(tmp_path / "two.json") == {"a": 2, "b": 4}
    assert _read(tmp_path / "three.json") == {"d": 4}
    assert (tmp_path / "four.pkl").read_bytes()[:1] == b"\x80"  # a pickle, not json
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "four.pkl",
        "one.json",
        "three.json",
        "two.json",
    ]


def test_equal_and_unequal_paths_of_other_types(tmp_path: Path) -> None:
    dr = build(FLOW)
    dr.materialize(to.json(id="s", dependencies=["c"], path=tmp_path / "p.json"), inputs={"x": 1})
    dr.materialize(
        to.json(id="s", dependencies=["c"], path=str(tmp_path / "p.json")), inputs={"x": 2}
    )
    assert _read(tmp_path / "p.json") == {"a": 3, "b": 6}
    dr.materialize(
        to.json(id="s", dependencies=["c"], path=value(str(tmp_path / "q.json"))),
        inputs={"x": 3},
    )
    assert _read(tmp_path / "q.json") == {"a": 4, "b": 8}


def test_a_path_read_from_a_node_follows_that_node(tmp_path: Path) -> None:
    dr = build(FLOW)
    for x in (1, 2):
        dr.materialize(
            to.json(id="s", dependencies=["c"], path=source("where")),
            inputs={"x": x, "where": str(tmp_path / f"{x}.json")},
        )
    assert _read(tmp_path / "1.json") == {"a": 2, "b": 4}
    assert _read(tmp_path / "2.json") == {"a": 3, "b": 6}


def test_other_inputs_overrides_and_additional_vars_are_not_served_stale(
    tmp_path: Path,
) -> None:
    dr = build(FLOW)
    path = tmp_path / "c.json"

    def run(**kwargs: Any) -> dict[str, Any]:
        _, extra = dr.materialize(to.json(id="s", dependencies=["c"], path=str(path)), **kwargs)
        return {"saved": _read(path), **extra}

    assert run(inputs={"x": 1}) == {"saved": {"a": 2, "b": 4}}
    assert run(inputs={"x": 5}) == {"saved": {"a": 6, "b": 12}}
    assert run(inputs={"x": 5}, overrides={"a": 100}) == {"saved": {"a": 100, "b": 200}}
    assert run(inputs={"x": 5}, overrides={"b": 0}) == {"saved": {"a": 6, "b": 0}}
    assert run(inputs={"x": 5}, additional_vars=["b"]) == {"saved": {"a": 6, "b": 12}, "b": 12}
    assert run(overrides={"a": 1}) == {"saved": {"a": 1, "b": 2}}  # x no longer needed


def test_combine_builders_are_told_apart(tmp_path: Path) -> None:
    dr = build(FLOW)
    path = tmp_path / "joined.json"
    dr.materialize(
        to.json(id="s", dependencies=["c", "d"], path=str(path), combine=base.DictResult()),
        inputs={"x": 1},
    )
    assert _read(path) == {"c": {"a": 2, "b": 4}, "d": {"d": 4}}

    class Firsts(base.DictResult):
        @staticmethod
        def build_result(**outputs: Any) -> dict:
            return {k: sorted(v)[0] for k, v in outputs.items()}

    dr.materialize(
        to.json(id="s", dependencies=["c", "d"], path=str(path), combine=Firsts()),
        inputs={"x": 1},
    )
    assert _read(path) == {"c": "a", "d": "d"}


def test_dependencies_given_as_nodes_are_told_apart_by_name(tmp_path: Path) -> None:
    # Node objects made and dropped one after the other often share an id: the cache must
    # key them by the node they name, not by identity.
    dr = build(FLOW)
    path = tmp_path / "saved.json"
    for name in ("c", "d", "c", "d"):
        dr.materialize(
            to.json(id="s", dependencies=[Node(name, dict)], path=str(path)), inputs={"x": 1}
        )
        gc.collect()
        assert _read(path) == ({"a": 2, "b": 4} if name == "c" else {"d": 4})


def test_a_saver_registered_later_is_used_by_the_next_request(tmp_path: Path) -> None:
    @dataclasses.dataclass
    class MarkedJSONSaver(JSONDataSaver):
        def save_data(self, data: Any) -> dict[str, Any]:
            return super().save_data({"marked": data})

    dr = build(FLOW)
    path = tmp_path / "c.json"

    def run() -> Any:
        dr.materialize(to.json(id="s", dependencies=["c"], path=str(path)), inputs={"x": 1})
        return _read(path)

    assert run() == {"a": 2, "b": 4}
    registry.register_adapter(MarkedJSONSaver)
    try:
        assert run() == {"marked": {"a": 2, "b": 4}}
    finally:
        registry.SAVER_REGISTRY["json"].remove(MarkedJSONSaver)
    assert run() == {"a": 2, "b": 4}


def test_loaders_follow_their_path_and_target(tmp_path: Path) -> None:
    dr = build(FLOW)
    (tmp_path / "one.json").write_text('{"a": 10, "b": 20}')
    (tmp_path / "two.json").write_text('{"d": 30}')
    _, extra = dr.materialize(
        from_.json(target="c", path=str(tmp_path / "one.json")), additional_vars=["c"]
    )
    assert extra == {"c": {"a": 10, "b": 20}}
    _, extra = dr.materialize(
        from_.json(target="c", path=str(tmp_path / "two.json")), additional_vars=["c"]
    )
    assert extra == {"c": {"d": 30}}
    _, extra = dr.materialize(
        from_.json(target="d", path=str(tmp_path / "one.json")),
        additional_vars=["c", "d"],
        inputs={"x": 1},
    )
    assert extra == {"c": {"a": 2, "b": 4}, "d": {"a": 10, "b": 20}}


@pytest.mark.parametrize(
    ("first", "second"),
    [(0.0, -0.0), (1, 1.0), (1, True), ("1", 1), ((1, 2), [1, 2]), (b"x", "x")],
)
def test_equal_but_different_literals_are_different_requests(first: Any, second: Any) -> None:
    # A saver sees exactly the value it was given, even where Python calls two values equal.
    seen: list = []

    @dataclasses.dataclass
    class Echo(DataSaver):
        tag: Any

        @classmethod
        def applicable_types(cls) -> Collection[type]:
            return [dict]

        @classmethod
        def name(cls) -> str:
            return "echo"

        def save_data(self, data: Any) -> dict[str, Any]:
            seen.append(self.tag)
            return {}

    registry.register_adapter(Echo)
    try:
        dr = build(FLOW)
        for tag in (first, second):
            dr.materialize(to.echo(id="s", dependencies=["c"], tag=tag), inputs={"x": 1})
    finally:
        del registry.SAVER_REGISTRY["echo"]
    assert [(type(t), repr(t)) for t in seen] == [
        (type(first), repr(first)),
        (type(second), repr(second)),
    ]
