"""``@load_from``, ``@save_to``, ``@dataloader``, ``@datasaver``: nodes, tags, values and errors."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import pytest

from cayley.function_modifiers import (
    InvalidDecoratorException,
    dataloader,
    datasaver,
    load_from,
    save_to,
    source,
    value,
)
from tests.io.helpers import build, data_tags, module_of

LOADER = {
    "hamilton.data_loader": True,
    "hamilton.data_loader.source": "json",
    "hamilton.data_loader.classname": "JSONDataLoader",
}


def test_load_from_injects_a_loader_pair(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"k": 3}))
    module = module_of(
        """
from cayley.function_modifiers import load_from, source

@load_from.json(path=source("settings_path"))
def settings(data: dict) -> dict:
    return {**data, "seen": True}
"""
    )
    dr = build(module)
    nodes = dr.graph.nodes
    load, select = nodes["settings.load_data.data"], nodes["settings.select_data.data"]
    assert data_tags(load) == {
        **LOADER,
        "hamilton.data_loader.has_metadata": True,
        "hamilton.data_loader.node": "data",
    }
    assert data_tags(select) == {
        **LOADER,
        "hamilton.data_loader.has_metadata": False,
        "hamilton.data_loader.node": "data",
    }
    assert "module" not in load.tags and nodes["settings"].tags["module"] == module.__name__
    assert dr.graph.dependencies["settings"] == ("settings.select_data.data",)
    assert dr.graph.dependencies["settings.load_data.data"] == ("settings_path",)
    result = dr.execute(
        ["settings", "settings.load_data.data"], inputs={"settings_path": str(path)}
    )
    assert result["settings"] == {"k": 3, "seen": True}
    data, metadata = result["settings.load_data.data"]
    assert data == {"k": 3}
    assert metadata["file_metadata"]["path"] == str(path)
    assert metadata["file_metadata"]["size"] == path.stat().st_size


def test_load_from_with_inject_and_literal_arguments(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text('{"a": 1}')
    (tmp_path / "b.txt").write_text("bee")
    module = module_of(
        f"""
from cayley.function_modifiers import load_from, value

@load_from.json(path={str(tmp_path / "a.json")!r}, inject_="a")
@load_from.file(path=value({str(tmp_path / "b.txt")!r}), inject_="b")
def both(a: dict, b: str, c: int) -> str:
    return f"{{a['a']}}{{b}}{{c}}"
"""
    )
    dr = build(module)
    assert {"both.load_data.a", "both.select_data.a", "both.load_data.b"} <= set(dr.graph.nodes)
    assert dr.graph.nodes["both.load_data.b"].tags["hamilton.data_loader.classname"] == (
        "RawFileDataLoader"
    )
    assert dr.execute(["both"], inputs={"c": 7}) == {"both": "1bee7"}


def test_save_to_adds_a_saver_node(tmp_path: Path) -> None:
    module = module_of(
        """
from cayley.function_modifiers import save_to, source, value

@save_to.json(path=source("out_path"), output_name_="summary_saved")
def summary(n: int) -> dict:
    return {"n": n}

@save_to.pickle(path=value("PLACEHOLDER"))
def other(n: int) -> list:
    return [n]
""".replace("PLACEHOLDER", str(tmp_path / "other.pkl"))
    )
    dr = build(module)
    saver, default_named = dr.graph.nodes["summary_saved"], dr.graph.nodes["save.other"]
    assert data_tags(saver) == {
        "hamilton.data_saver": True,
        "hamilton.data_saver.sink": "json",
        "hamilton.data_saver.classname": "JSONDataSaver",
    }
    assert default_named.tags["hamilton.data_saver.classname"] == "PickleSaver"
    assert set(dr.graph.dependencies["summary_saved"]) == {"summary", "out_path"}
    out = tmp_path / "summary.json"
    result = dr.execute(["summary_saved", "save.other"], inputs={"n": 4, "out_path": str(out)})
    assert json.loads(out.read_text()) == {"n": 4}
    assert pickle.loads((tmp_path / "other.pkl").read_bytes()) == [4]
    assert result["summary_saved"]["file_metadata"]["size"] == out.stat().st_size


def test_stacked_save_to_needs_no_target(tmp_path: Path) -> None:
    """Each stacked saver saves the function's value (Hamilton #1147 saved the metadata)."""
    module = module_of(
        f"""
from cayley.function_modifiers import save_to, value

@save_to.json(path=value({str(tmp_path / "s.json")!r}))
@save_to.pickle(path=value({str(tmp_path / "s.pkl")!r}))
@save_to.yaml(path=value({str(tmp_path / "s.yaml")!r}), output_name_="as_yaml")
def stacked(x: int) -> dict:
    return {{"x": x}}
"""
    )
    dr = build(module)
    savers = sorted(n for n, node in dr.graph.nodes.items() if node.tags.get("hamilton.data_saver"))
    assert savers == ["as_yaml", "save.stacked.json", "save.stacked.pickle"]
    for name in savers:
        assert dr.graph.dependencies[name] == ("stacked",)
    dr.execute(savers, inputs={"x": 5})
    assert json.loads((tmp_path / "s.json").read_text()) == {"x": 5}
    assert pickle.loads((tmp_path / "s.pkl").read_bytes()) == {"x": 5}
    assert (tmp_path / "s.yaml").read_text() == "x: 5\n"


def test_same_format_stacked_twice_asks_for_output_names() -> None:
    with pytest.raises(InvalidDecoratorException, match="distinct output_name_"):

        @save_to.json(path="a.json")
        @save_to.json(path="b.json")
        def twice(x: int) -> dict:
            return {}

        build(module_of_fn(twice))


def module_of_fn(fn: Any) -> Any:
    from cayley import ad_hoc_utils

    return ad_hoc_utils.create_temporary_module(fn)


def test_save_to_with_target_on_extract_fields(tmp_path: Path) -> None:
    module = module_of(
        f"""
from cayley.function_modifiers import extract_fields, save_to, value

@save_to.json(path=value({str(tmp_path / "a.json")!r}), target_="part_a")
@extract_fields({{"part_a": dict, "part_b": int}})
def parts(x: int) -> dict:
    return {{"part_a": {{"x": x}}, "part_b": x}}
"""
    )
    dr = build(module)
    assert dr.graph.dependencies["save.part_a"] == ("part_a",)
    dr.execute(["save.part_a"], inputs={"x": 2})
    assert json.loads((tmp_path / "a.json").read_text()) == {"x": 2}
    with pytest.raises(InvalidDecoratorException, match="pass target_"):

        @save_to.json(path="x.json")
        @extract_fields_two
        def ambiguous(x: int) -> dict:
            return {}

        build(module_of_fn(ambiguous))


def extract_fields_two(fn: Any) -> Any:
    from cayley.function_modifiers import extract_fields

    return extract_fields({"f_one": dict, "f_two": dict})(fn)


def test_dataloader_and_datasaver_nodes() -> None:
    module = module_of(
        """
from cayley.function_modifiers import dataloader, datasaver

@dataloader()
def raw(p: str) -> tuple[list, dict]:
    return [1, 2, p], {"from": p}

@datasaver()
def dump(raw: list, q: str) -> dict:
    return {"n": len(raw), "q": q}
"""
    )
    dr = build(module)
    nodes = dr.graph.nodes
    assert data_tags(nodes["raw.loader"]) == {
        "hamilton.data_loader": True,
        "hamilton.data_loader.has_metadata": True,
        "hamilton.data_loader.node": "raw",
        "hamilton.data_loader.classname": "raw()",
        "hamilton.data_loader.source": "loader",
    }
    assert data_tags(nodes["raw"]) == {
        "hamilton.data_loader": True,
        "hamilton.data_loader.has_metadata": False,
        "hamilton.data_loader.node": "raw",
        "hamilton.data_loader.classname": "raw()",
        "hamilton.data_loader.source": "raw",
    }
    assert data_tags(nodes["dump"]) == {
        "hamilton.data_saver": True,
        "hamilton.data_saver.sink": "dump",
        "hamilton.data_saver.classname": "dump()",
    }
    assert nodes["raw"].type is list
    result = dr.execute(["raw", "dump"], inputs={"p": "z", "q": "w"})
    assert result == {"raw": [1, 2, "z"], "dump": {"n": 3, "q": "w"}}


def test_datasaver_with_future_annotations_and_dict_any() -> None:
    """Hamilton #1297: string annotations and dict[str, Any] are fine."""
    module = module_of(
        """
from __future__ import annotations
from typing import Any
from cayley.function_modifiers import dataloader, datasaver

@datasaver()
def saver(x: int) -> dict[str, Any]:
    return {"x": x}

@datasaver()
def later(x: int) -> Meta:
    return {"later": x}

@dataloader()
def loaded(x: int) -> tuple[Payload, dict[str, Any]]:
    return [x], {}

Meta = dict
Payload = list
"""
    )
    dr = build(module)
    assert dr.execute(["saver", "later", "loaded"], inputs={"x": 1}) == {
        "saver": {"x": 1},
        "later": {"later": 1},
        "loaded": [1],
    }


@pytest.mark.parametrize("decorator", [dataloader, datasaver])
def test_bare_dataloader_and_datasaver_say_to_add_parentheses(decorator: Any) -> None:
    """Hamilton #1084: a bare @dataloader failed with an unrelated TypeError."""

    def fn(x: int) -> tuple[int, dict]:
        return x, {}

    label = decorator.__name__
    with pytest.raises(TypeError, match=rf"@{label} must be called: write @{label}\(\)"):
        decorator(fn)
    with pytest.raises(TypeError, match=rf"{label}\(\) takes no arguments"):
        decorator(1, 2)


def test_dataloader_and_datasaver_check_return_annotations() -> None:
    with pytest.raises(InvalidDecoratorException, match=r"tuple\[<data type>, dict\]"):

        @dataloader()
        def not_a_tuple(x: int) -> list:
            return [x]

    with pytest.raises(InvalidDecoratorException, match="annotate it -> dict"):

        @datasaver()
        def not_a_dict(x: int) -> int:
            return x


def test_load_from_errors() -> None:
    with pytest.raises(AttributeError, match=r"No loader named 'nope' for load_from; available"):
        load_from.nope  # noqa: B018
    with pytest.raises(AttributeError, match=r"No saver named 'nope' for save_to"):
        save_to.nope  # noqa: B018
    with pytest.raises(AttributeError):
        load_from.__wrapped__  # noqa: B018

    def two(a: dict, b: dict) -> dict:
        return a

    with pytest.raises(InvalidDecoratorException, match=r"pass inject_='<name>'"):
        load_from.json(path="p")(two)
    with pytest.raises(InvalidDecoratorException, match=r"inject_='zz' is not a parameter"):
        load_from.json(path="p", inject_="zz")(two)

    def one(data: dict) -> dict:
        return data

    with pytest.raises(
        InvalidDecoratorException, match=r"missing required argument\(s\) \['path'\]"
    ):
        load_from.json()(one)
    with pytest.raises(InvalidDecoratorException, match=r"unknown argument\(s\) \['zzz'\]"):
        load_from.json(path="p", zzz=1)(one)

    def number(x: int) -> int:
        return x

    with pytest.raises(InvalidDecoratorException, match="No json loader handles type int"):
        load_from.json(path="p")(number)


def test_save_to_type_errors_surface_when_the_graph_is_built() -> None:
    @save_to.json(path="x.json")
    def number(x: int) -> int:
        return x

    with pytest.raises(InvalidDecoratorException, match="No json saver handles type int"):
        build(module_of_fn(number))


def test_source_and_value_arguments_only() -> None:
    from cayley.function_modifiers import group

    with pytest.raises(InvalidDecoratorException, match="take a literal, value"):
        load_from.json(path=group(source("a"), value("b")))


def test_decorators_keep_the_argument_signature() -> None:
    import inspect

    params = inspect.signature(load_from.csv).parameters
    assert "inject_" in params and "path" in params and "file" in params  # pandas and polars
    assert "output_name_" in inspect.signature(save_to.parquet).parameters
