"""``to``/``from_`` materializers and ``Driver.materialize`` / ``validate_`` / ``visualize_materialization``."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from cayley import base, driver
from cayley.function_modifiers import InvalidDecoratorException, source
from cayley.io.materialization import from_, modify_graph, to
from cayley.lifecycle import GraphConstructionHook, GraphExecutionHook
from tests.io.helpers import build, module_of

FLOW = module_of(
    """
import pandas as pd

def a(x: int) -> int:
    return x + 1

def b(a: int) -> int:
    return a * 2

def c(a: int, b: int) -> dict:
    return {"a": a, "b": b}

def frame(b: int) -> pd.DataFrame:
    return pd.DataFrame({"v": [b, b + 1], "s": ["p", "q"]})

def doubled(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(v=frame["v"] * 2)
"""
)


class Recorder(GraphExecutionHook, GraphConstructionHook):
    """Records graph hooks."""

    def __init__(self) -> None:
        self.events: list[tuple[Any, ...]] = []

    def run_after_graph_construction(self, *, graph: Any, config: Any, **kw: Any) -> None:
        self.events.append(("construct", len(graph.nodes)))

    def run_before_graph_execution(self, *, final_vars: list[str], **kw: Any) -> None:
        self.events.append(("pre", tuple(final_vars)))

    def run_after_graph_execution(self, *, success: bool, results: Any, **kw: Any) -> None:
        self.events.append(("post", success, sorted(results) if results else None))


def test_materialize_saves_and_returns_metadata_and_additional_vars(tmp_path: Path) -> None:
    dr = build(FLOW)
    metadata, extra = dr.materialize(
        to.json(id="c_json", dependencies=["c"], path=str(tmp_path / "c.json")),
        to.json(
            id="ab_json",
            dependencies=["a", "b"],
            path=str(tmp_path / "ab.json"),
            combine=base.DictResult(),
        ),
        to.csv(id="frame_csv", dependencies=["frame"], path=str(tmp_path / "f.csv")),
        to.pickle(id="b_pickle", dependencies=["b"], path=str(tmp_path / "b.pkl")),
        to.memory(id="kept", dependencies=["c"]),
        additional_vars=["a", "frame"],
        inputs={"x": 3},
    )
    assert json.loads((tmp_path / "c.json").read_text()) == {"a": 4, "b": 8}
    assert json.loads((tmp_path / "ab.json").read_text()) == {"a": 4, "b": 8}
    pd.testing.assert_frame_equal(
        pd.read_csv(tmp_path / "f.csv"), pd.DataFrame({"v": [8, 9], "s": ["p", "q"]})
    )
    assert pickle.loads((tmp_path / "b.pkl").read_bytes()) == 8
    assert set(metadata) == {"c_json", "ab_json", "frame_csv", "b_pickle", "kept"}
    assert metadata["kept"] == {"a": 4, "b": 8}
    file_md = metadata["frame_csv"]["file_metadata"]
    assert file_md["path"] == str(tmp_path / "f.csv")
    assert file_md["size"] == (tmp_path / "f.csv").stat().st_size
    assert metadata["frame_csv"]["dataframe_metadata"]["column_names"] == ["v", "s"]
    assert extra["a"] == 4 and extra["frame"]["v"].tolist() == [8, 9]
    assert set(extra) == {"a", "frame"}


def test_materialize_applies_no_result_builder(tmp_path: Path) -> None:
    dr = driver.Driver({}, FLOW)  # this constructor returns DataFrames from execute
    metadata, extra = dr.materialize(
        to.json(id="out", dependencies=["c"], path=str(tmp_path / "c.json")),
        additional_vars=["b"],
        inputs={"x": 0},
    )
    assert extra == {"b": 2} and "file_metadata" in metadata["out"]


def test_from_replaces_a_node_and_picks_the_format_per_run(tmp_path: Path) -> None:
    source_frame = pd.DataFrame({"v": [1, 2], "s": ["x", "y"]})
    source_frame.to_csv(tmp_path / "in.csv", index=False)
    source_frame.to_parquet(tmp_path / "in.parquet")
    dr = build(FLOW)
    from_csv = dr.materialize(
        from_.csv(target="frame", path=str(tmp_path / "in.csv")), additional_vars=["doubled"]
    )[1]["doubled"]
    from_parquet = dr.materialize(
        from_.parquet(target="frame", path=str(tmp_path / "in.parquet")),
        additional_vars=["doubled", "load_data.frame"],
    )[1]
    assert from_csv["v"].tolist() == [2, 4] == from_parquet["doubled"]["v"].tolist()
    data, loaded_md = from_parquet["load_data.frame"]
    assert loaded_md["file_metadata"]["path"] == str(tmp_path / "in.parquet")
    # no input was needed: the loader replaced everything upstream of frame
    assert dr.execute(["frame"], inputs={"x": 1})["frame"]["v"].tolist() == [4, 5]


def test_from_can_feed_an_input(tmp_path: Path) -> None:
    (tmp_path / "x.json").write_text(json.dumps({"x": 5}))
    module = module_of("def doubled(settings: dict) -> int:\n    return settings['x'] * 2\n")
    dr = build(module)
    _, extra = dr.materialize(
        from_.json(target="settings", path=str(tmp_path / "x.json")), additional_vars=["doubled"]
    )
    assert extra == {"doubled": 10}


def test_materializer_arguments_from_sources(tmp_path: Path) -> None:
    dr = build(FLOW)
    target = tmp_path / "from_input.json"
    metadata, _ = dr.materialize(
        to.json(id="saved", dependencies=["c"], path=source("out_path")),
        inputs={"x": 1, "out_path": str(target)},
    )
    assert json.loads(target.read_text()) == {"a": 2, "b": 4}
    assert metadata["saved"]["file_metadata"]["path"] == str(target)


def test_dependencies_may_be_functions_and_nodes(tmp_path: Path) -> None:
    dr = build(FLOW)
    node_c = dr.list_available_variables(tag_filter={"module": FLOW.__name__})
    c = next(n for n in node_c if n.name == "c")
    metadata, extra = dr.materialize(
        to.json(id="via_function", dependencies=[FLOW.c], path=str(tmp_path / "f.json")),
        to.json(id="via_node", dependencies=[c], path=str(tmp_path / "n.json")),
        additional_vars=[FLOW.a],
        inputs={"x": 1},
    )
    assert json.loads((tmp_path / "f.json").read_text()) == json.loads(
        (tmp_path / "n.json").read_text()
    )
    assert extra == {"a": 2}


def test_graph_hooks_run_around_materialize_and_rewrites_are_cached(tmp_path: Path) -> None:
    recorder = Recorder()
    dr = driver.Builder().with_modules(FLOW).with_adapters(recorder).build()
    assert recorder.events == [("construct", 6)]

    def run(path: str) -> None:
        dr.materialize(
            to.json(id="saved", dependencies=["c"], path=path),
            additional_vars=["a"],
            inputs={"x": 1},
        )

    run(str(tmp_path / "one.json"))
    run(str(tmp_path / "one.json"))  # equal materializers: the rewritten graph is reused
    assert recorder.events == [
        ("construct", 6),
        ("construct", 7),
        ("pre", ("saved", "a")),
        ("post", True, ["a", "saved"]),
        ("pre", ("saved", "a")),
        ("post", True, ["a", "saved"]),
    ]
    run(str(tmp_path / "two.json"))  # another path is another graph
    assert recorder.events[-3][0] == "construct"


def test_failing_saver_reports_through_post_graph_execute(tmp_path: Path) -> None:
    recorder = Recorder()
    dr = driver.Builder().with_modules(FLOW).with_adapters(recorder).build()
    with pytest.raises(FileNotFoundError):
        dr.materialize(
            to.json(id="nowhere", dependencies=["c"], path=str(tmp_path / "no" / "dir.json")),
            inputs={"x": 1},
        )
    assert recorder.events[-1] == ("post", False, None)
    assert not list(tmp_path.iterdir())  # no temporary file left behind


def test_rewritten_graphs_kept_are_bounded(tmp_path: Path) -> None:
    dr = build(FLOW)
    kept = driver.Driver.MATERIALIZED_GRAPHS_KEPT
    for i in range(kept + 5):
        dr.materialize(to.memory(id=f"m{i}", dependencies=["a"]), inputs={"x": i})
    assert len(dr._materialized) == kept


def test_builder_with_materializers_puts_them_in_the_graph(tmp_path: Path) -> None:
    builder = (
        driver.Builder()
        .with_modules(FLOW)
        .with_materializers(
            to.json(id="c_json", dependencies=["c"], path=str(tmp_path / "c.json")),
            from_.json(target="c", path=str(tmp_path / "seed.json")),
        )
    )
    (tmp_path / "seed.json").write_text(json.dumps({"seed": 1}))
    copied = builder.copy()
    dr = builder.build()
    nodes = dr.graph.nodes
    assert nodes["c_json"].tags["hamilton.data_saver.classname"] == "JSONDataSaver"
    assert nodes["load_data.c"].tags["hamilton.data_loader.node"] == "c"
    assert nodes["c"].tags["hamilton.data_loader.has_metadata"] is False
    result = dr.execute(["c_json"])
    assert json.loads((tmp_path / "c.json").read_text()) == {"seed": 1}
    assert result["c_json"]["file_metadata"]["size"] == (tmp_path / "c.json").stat().st_size
    assert "c_json" in copied.build().graph.nodes
    with pytest.raises(ValueError, match="unpack the list with"):
        driver.Builder().with_materializers([to.memory(id="m", dependencies=["a"])])


def test_validate_and_visualize_materialization(tmp_path: Path) -> None:
    dr = build(FLOW)
    saver = to.json(id="c_json", dependencies=["c"], path=str(tmp_path / "c.json"))
    assert dr.validate_materialization(saver, inputs={"x": 1}) is None
    with pytest.raises(ValueError, match="Required input x"):
        dr.validate_materialization(saver)
    assert not (tmp_path / "c.json").exists()
    dot = dr.visualize_materialization(
        saver,
        from_.csv(target="frame", path=str(tmp_path / "f.csv")),
        additional_vars=["doubled"],
        inputs={"x": 1},
    )
    source_text = dot.source
    assert "c_json" in source_text and "load_data.frame" in source_text
    assert source_text.count("cylinder") >= 3  # saver, loader and select nodes


def test_modify_graph_is_the_plain_rewrite(tmp_path: Path) -> None:
    dr = build(FLOW)
    graph = modify_graph(
        dr.graph,
        [to.memory(id="kept", dependencies=["a"])],
        [from_.literal(target="b", value=10)],
    )
    assert {"kept", "load_data.b"} <= set(graph.nodes) and "kept" not in dr.graph.nodes


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (
            lambda p: [to.json(id="two", dependencies=["a", "b"], path=p)],
            ValueError,
            r"saves 2 nodes \['a', 'b'\]: pass combine=",
        ),
        (
            lambda p: [from_.json(target="nope", path=p), to.memory(id="m", dependencies=["a"])],
            ValueError,
            r"target 'nope' is not a node of the graph",
        ),
        (
            lambda p: [to.json(id="z", dependencies=["cc"], path=p)],
            ValueError,
            r"depends on \['cc'\], which are not nodes of the graph. Did you mean \['c'\]",
        ),
        (
            lambda p: [to.json(id="a", dependencies=["c"], path=p)],
            ValueError,
            r"would add node 'a', which the graph already has",
        ),
        (
            lambda p: [
                to.memory(id="m", dependencies=["a"]),
                to.memory(id="m", dependencies=["b"]),
            ],
            ValueError,
            r"share the id\(s\) \['m'\]",
        ),
        (
            lambda p: [[to.memory(id="m", dependencies=["a"])]],
            ValueError,
            r"unpack the list with \*",
        ),
        (lambda p: ["c"], TypeError, r"'c' is not a materializer"),
        (lambda p: [], ValueError, r"Nothing to materialize"),
        (
            lambda p: [to.csv(id="z", dependencies=["c"], path=p)],
            InvalidDecoratorException,
            r"No csv saver handles type dict \(materializer 'z' saving 'c'\)",
        ),
    ],
)
def test_misuse_is_reported_clearly(make: Any, error: type, message: str, tmp_path: Path) -> None:
    dr = build(FLOW)
    with pytest.raises(error, match=message):
        dr.materialize(*make(str(tmp_path / "out")), inputs={"x": 1})


def test_factory_errors_are_raised_when_the_materializer_is_made() -> None:
    with pytest.raises(AttributeError, match=r"No saver named 'nope' for to.<format>"):
        to.nope  # noqa: B018
    with pytest.raises(AttributeError, match=r"No loader named 'nope' for from_.<format>"):
        from_.nope  # noqa: B018
    with pytest.raises(InvalidDecoratorException, match=r"JSONDataSaver requires \['path'\]"):
        to.json(id="z", dependencies=["c"])
    with pytest.raises(InvalidDecoratorException, match=r"got \['bogus', 'path'\]"):
        to.json(id="z", dependencies=["c"], path="p", bogus=1)
    with pytest.raises(ValueError, match=r"Write dependencies=\['c'\]"):
        to.json(id="z", dependencies="c", path="p")
    with pytest.raises(TypeError, match="combine must be a result builder"):
        to.json(id="z", dependencies=["c"], path="p", combine=dict)
    with pytest.raises(TypeError, match="missing 1 required positional argument: 'target'"):
        from_.json(path="p")


def test_a_driver_with_materializers_pickles(tmp_path: Path) -> None:
    from tests.resources import core_basic

    dr = (
        driver.Builder()
        .with_modules(core_basic)
        .with_materializers(to.pickle(id="saved", dependencies=["c"], path=str(tmp_path / "c.pkl")))
        .build()
    )
    copy = pickle.loads(pickle.dumps(dr))
    assert "saved" in copy.graph.nodes
    copy.execute(["saved"], inputs={"x": 1})
    assert pickle.loads((tmp_path / "c.pkl").read_bytes()) == 22


def test_concurrent_materialize_calls_share_one_driver(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    dr = build(FLOW)

    def one(i: int) -> int:
        path = tmp_path / f"{i % 3}-{i}.json"
        metadata, extra = dr.materialize(
            to.json(id=f"saved_{i % 3}", dependencies=["c"], path=str(path)),
            additional_vars=["a"],
            inputs={"x": i},
        )
        assert json.loads(path.read_text()) == {"a": i + 1, "b": 2 * (i + 1)}
        return extra["a"]

    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(one, range(24))) == [i + 1 for i in range(24)]
