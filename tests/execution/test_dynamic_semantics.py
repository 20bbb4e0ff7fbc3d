"""What Parallelizable/Collect compute, on every local executor.

Each test runs on the plain driver, and with dynamic execution on the synchronous, thread and
fork-process executors (the ``kind`` fixture). Several scenarios here fail on Hamilton 1.90
(nesting, several Collect parameters, requesting or overriding block nodes, ...).
"""

from __future__ import annotations

import pytest

from cayley import ad_hoc_utils
from tests.resources import dyn_mapreduce, dyn_nested, dyn_words
from tests.resources.dyn_harness import build


def _shifted(n: int, scale: int, offset: int = 0) -> list[int]:
    return [i * scale + offset for i in range(n)]


# ---- one fan-out -------------------------------------------------------------------------
def test_collect_receives_items_in_order(kind):
    dr = build(kind, dyn_mapreduce)
    result = dr.execute(["total", "as_list", "summary"], inputs={"n": 6, "scale": 3, "offset": 1})
    expected = _shifted(6, 3, 1)
    assert result == {
        "total": sum(expected),
        "as_list": expected,
        "summary": f"run:{sum(expected)}:6",
    }


def test_more_items_than_workers_keep_their_order(kind):
    dr = build(kind, dyn_mapreduce)
    result = dr.execute(["as_list"], inputs={"n": 300, "scale": 7})
    assert result["as_list"] == _shifted(300, 7)


@pytest.mark.parametrize("outputs", [["total"], ["as_list", "pairs", "items_back"]])
def test_empty_generator_collects_empty_lists(kind, outputs):
    dr = build(kind, dyn_mapreduce)
    result = dr.execute(outputs, inputs={"n": 0, "scale": 3})
    assert result == {name: (0 if name == "total" else []) for name in outputs}


def test_parallelizable_returning_a_list(kind):
    dr = build(kind, dyn_mapreduce)
    assert dr.execute(["listed_joined"], inputs={"n": 3}) == {"listed_joined": "X0,X1,X2"}


def test_function_with_several_collect_parameters(kind):
    dr = build(kind, dyn_mapreduce)
    result = dr.execute(["pairs"], inputs={"n": 4, "scale": 2, "offset": 5})
    assert result == {"pairs": [(5, 0), (7, 2), (9, 4), (11, 6)]}


def test_several_collect_nodes_of_one_expander_in_one_run(kind):
    dr = build(kind, dyn_mapreduce)
    outputs = ["total", "as_list", "pairs", "items_back", "with_extra"]
    result = dr.execute(outputs, inputs={"n": 4, "scale": 2, "offset": 1, "label": "L"})
    shifted = _shifted(4, 2, 1)
    assert result == {
        "total": sum(shifted),
        "as_list": shifted,
        "pairs": list(zip(shifted, _shifted(4, 2))),
        "items_back": [0, 1, 2, 3],
        "with_extra": f"L={sum(shifted)}",
    }


def test_parallelizable_fed_straight_into_collect_gives_the_items(kind):
    dr = build(kind, dyn_mapreduce)
    assert dr.execute(["items_back"], inputs={"n": 5}) == {"items_back": [0, 1, 2, 3, 4]}


def test_collect_then_parallelizable_chains_map_reduce(kind):
    dr = build(kind, dyn_mapreduce)
    result = dr.execute(
        ["regrouped_total", "regrouped", "regrouped_sq"], inputs={"n": 3, "scale": 2}
    )
    values = [v for s in _shifted(3, 2) for v in (s, -s)]
    assert result == {
        "regrouped": values,
        "regrouped_sq": [v * v for v in values],
        "regrouped_total": sum(v * v for v in values),
    }


def test_requesting_block_nodes_gives_per_item_lists(kind):
    dr = build(kind, dyn_mapreduce)
    result = dr.execute(["shifted", "scaled", "items", "total"], inputs={"n": 4, "scale": 3})
    assert result == {
        "shifted": [0, 3, 6, 9],
        "scaled": [0, 3, 6, 9],
        "items": [0, 1, 2, 3],
        "total": 18,
    }


def test_requesting_only_the_expander_gives_its_items(kind):
    dr = build(kind, dyn_mapreduce)
    assert dr.execute(["items"], inputs={"n": 3}) == {"items": [0, 1, 2]}


def test_block_without_collect_downstream_runs_per_item(kind):
    dr = build(kind, dyn_mapreduce)
    assert dr.execute(["shifted"], inputs={"n": 3, "scale": 5}) == {"shifted": [0, 5, 10]}


def test_overriding_a_block_node_uses_the_value_for_every_item(kind):
    dr = build(kind, dyn_mapreduce)
    result = dr.execute(
        ["total", "shifted", "scaled"],
        inputs={"n": 3, "scale": 2, "offset": 1},
        overrides={"scaled": 7},
    )
    assert result == {"total": 24, "shifted": [8, 8, 8], "scaled": 7}


def test_overriding_the_collected_node_itself(kind):
    dr = build(kind, dyn_mapreduce)
    result = dr.execute(["total"], inputs={"n": 3}, overrides={"shifted": 4})
    assert result == {"total": 12}


@pytest.mark.timeout(60)
def test_normalize_pattern_with_the_collected_node_overridden(kind):
    dr = build(kind, dyn_mapreduce)
    result = dr.execute(["shares"], inputs={"n": 3, "scale": 1}, overrides={"shifted": 2})
    assert result["shares"] == pytest.approx([1 / 3] * 3)


def test_overriding_the_expander_takes_items_from_the_override(kind):
    dr = build(kind, dyn_mapreduce)
    result = dr.execute(
        ["total", "as_list", "items_back"], inputs={"scale": 10}, overrides={"items": [5, 6, 7]}
    )
    assert result == {"total": 180, "as_list": [50, 60, 70], "items_back": [5, 6, 7]}


def test_overriding_the_expander_with_an_empty_list(kind):
    dr = build(kind, dyn_mapreduce)
    result = dr.execute(["as_list"], inputs={"scale": 10}, overrides={"items": []})
    assert result == {"as_list": []}


def test_block_reads_config_and_outside_inputs(kind):
    dr = build(kind, dyn_mapreduce, config={"scale": 4, "label": "cfg"})
    result = dr.execute(["summary", "as_list"], inputs={"n": 3, "offset": 2})
    assert result == {"summary": "cfg:18:3", "as_list": [2, 6, 10]}


def test_optional_outside_input_of_a_block_node_defaults(kind):
    dr = build(kind, dyn_mapreduce)
    assert dr.execute(["as_list"], inputs={"n": 3, "scale": 1}) == {"as_list": [0, 1, 2]}


def test_normalize_pattern(kind):
    dr = build(kind, dyn_mapreduce)
    result = dr.execute(["shares", "shares_plus", "total"], inputs={"n": 5, "scale": 2})
    values = _shifted(5, 2)
    total = sum(values)
    assert result["total"] == total
    assert result["shares"] == pytest.approx([v / total for v in values])
    assert result["shares_plus"] == pytest.approx([v / total + v for v in values])
    assert sum(result["shares"]) == pytest.approx(1.0)


NORMALIZE_ITEMS_SOURCE = """
from cayley.htypes import Collect, Parallelizable

def fan(n: int) -> Parallelizable[int]:
    yield from range(1, n + 1)

def fan_total(fan: Collect[int]) -> int:
    return sum(fan)

def fan_share(fan: int, fan_total: int) -> float:
    return fan / fan_total

def fan_shares(fan_share: Collect[float]) -> list[float]:
    return list(fan_share)
"""


@pytest.mark.timeout(60)
def test_normalize_pattern_over_the_items_themselves(kind):
    module = ad_hoc_utils.module_from_source(NORMALIZE_ITEMS_SOURCE)
    dr = build(kind, module)
    result = dr.execute(["fan_shares"], inputs={"n": 3})
    assert result["fan_shares"] == pytest.approx([1 / 6, 2 / 6, 3 / 6])


GROUPED_ITEMS_SOURCE = """
from cayley.htypes import Collect, Parallelizable

def fan_a(n: int) -> Parallelizable[int]:
    return list(range(n))

def a_items_sum(fan_a: Collect[int]) -> int:
    return sum(fan_a)

def fan_b(n: int) -> Parallelizable[int]:
    return list(range(n))

def b_plus_a(fan_b: int, a_items_sum: int) -> int:
    return fan_b * 10 + a_items_sum

def b_items(fan_b: Collect[int]) -> list[int]:
    return list(fan_b)
"""


@pytest.mark.timeout(60)
def test_block_reading_a_value_grouped_with_a_bare_item_fan_in(kind):
    module = ad_hoc_utils.module_from_source(GROUPED_ITEMS_SOURCE)
    dr = build(kind, module)
    result = dr.execute(["b_plus_a", "b_items"], inputs={"n": 3})
    assert result == {"b_plus_a": [3, 13, 23], "b_items": [0, 1, 2]}


def test_block_reading_a_bare_item_fan_in_of_another_expander(kind):
    """The same graph works when the bare-item fan-in of fan_b is not requested."""
    module = ad_hoc_utils.module_from_source(GROUPED_ITEMS_SOURCE)
    dr = build(kind, module)
    assert dr.execute(["b_plus_a"], inputs={"n": 3}) == {"b_plus_a": [3, 13, 23]}


def test_normalize_pattern_with_block_values_requested(kind):
    dr = build(kind, dyn_mapreduce)
    result = dr.execute(["share", "share_plus"], inputs={"n": 3, "scale": 1})
    assert result["share"] == pytest.approx([0.0, 1 / 3, 2 / 3])
    assert result["share_plus"] == pytest.approx([0.0, 1 + 1 / 3, 2 + 2 / 3])


def test_same_driver_runs_repeatedly(kind):
    dr = build(kind, dyn_mapreduce)
    for n in (3, 0, 5, 3):
        assert dr.execute(["as_list"], inputs={"n": n, "scale": 1}) == {"as_list": list(range(n))}


UNUSUAL_ITEMS_SOURCE = """
from cayley.htypes import Collect, Parallelizable

def things(n: int) -> Parallelizable[object]:
    yield None
    yield [1, [2]]
    yield (3, 4)
    yield {"a": 1}
    yield 0
    yield ""

def kept(things: object) -> object:
    return things

def all_kept(kept: Collect[object]) -> list:
    return list(kept)
"""


def test_falsy_and_container_items_pass_through_unchanged(kind):
    dr = build(kind, ad_hoc_utils.module_from_source(UNUSUAL_ITEMS_SOURCE))
    items = [None, [1, [2]], (3, 4), {"a": 1}, 0, ""]
    assert dr.execute(["all_kept", "kept", "things"], inputs={"n": 1}) == {
        "all_kept": items,
        "kept": items,
        "things": items,
    }


def test_requesting_an_output_twice_and_inputs_as_outputs(kind):
    dr = build(kind, dyn_mapreduce)
    result = dr.execute(["total", "total", "n", "scale"], inputs={"n": 3, "scale": 2})
    assert result == {"total": 6, "n": 3, "scale": 2}


def test_sequential_and_sibling_blocks():
    """Two independent fan-outs feeding one node, then a second stage (module built at run time)."""
    source = """
from cayley.htypes import Collect, Parallelizable

def left(n: int) -> Parallelizable[int]:
    yield from range(n)

def left_sq(left: int) -> int:
    return left * left

def right(m: int) -> Parallelizable[str]:
    for i in range(m):
        yield "r" * (i + 1)

def right_len(right: str) -> int:
    return len(right)

def combined(left_sq: Collect[int], right_len: Collect[int]) -> list[int]:
    return left_sq + right_len
"""
    module = ad_hoc_utils.module_from_source(source)
    for kind in ("plain", "sync", "threads"):
        dr = build(kind, module)
        assert dr.execute(["combined"], inputs={"n": 3, "m": 2}) == {"combined": [0, 1, 4, 1, 2]}


# ---- nested fan-outs ---------------------------------------------------------------------
NESTED_INPUTS = {"n_outer": 3, "n_inner": 2, "bias": 1}


def _inner_vals(n_outer: int, n_inner: int, bias: int) -> list[list[int]]:
    return [[o * 10 + j + bias for j in range(n_inner)] for o in range(n_outer)]


def test_nested_depth_two(kind):
    dr = build(kind, dyn_nested)
    result = dr.execute(["grand", "grand_total"], inputs=NESTED_INPUTS)
    inner = _inner_vals(3, 2, 1)
    grand = [sum(vals) - o * 10 for o, vals in enumerate(inner)]
    assert result == {"grand": grand, "grand_total": sum(grand)}


def test_nested_block_values_come_back_as_nested_lists(kind):
    dr = build(kind, dyn_nested)
    result = dr.execute(["inner_val", "inner", "outer", "outer_val"], inputs=NESTED_INPUTS)
    assert result == {
        "inner_val": _inner_vals(3, 2, 1),
        "inner": [[0, 1], [10, 11], [20, 21]],
        "outer": [0, 1, 2],
        "outer_val": [0, 10, 20],
    }


def test_nested_with_empty_inner_blocks(kind):
    dr = build(kind, dyn_nested)
    result = dr.execute(["grand", "inner_val"], inputs={"n_outer": 2, "n_inner": 0, "bias": 1})
    assert result == {"grand": [0, -10], "inner_val": [[], []]}


def _leaf_expected(n_outer: int, n_inner: int, bias: int):
    top, leaf_vals = [], []
    for o in range(n_outer):
        outer_val = o * 10
        mids, mid_leaves = [], []
        for j in range(n_inner):
            inner_val = outer_val + j + bias
            leaves = [k * 100 + inner_val + outer_val for k in range(inner_val % 3)]
            mids.append(sum(leaves))
            mid_leaves.append(leaves)
        top.append(mids)
        leaf_vals.append(mid_leaves)
    return top, leaf_vals


def test_nested_depth_three(kind):
    dr = build(kind, dyn_nested)
    inputs = {"n_outer": 3, "n_inner": 3, "bias": 1}
    result = dr.execute(["top", "leaf_val", "leaf_sum"], inputs=inputs)
    top, leaf_vals = _leaf_expected(**inputs)
    assert result == {"top": top, "leaf_val": leaf_vals, "leaf_sum": top}


def test_overriding_a_nested_expander(kind):
    dr = build(kind, dyn_nested)
    result = dr.execute(["grand", "inner_val"], inputs=NESTED_INPUTS, overrides={"inner": [1, 2]})
    # every outer item gets the items [1, 2]: inner_sum = (1 + 1) + (2 + 1) = 5
    assert result == {"grand": [5, -5, -15], "inner_val": [[2, 3], [2, 3], [2, 3]]}


def test_overriding_a_node_of_the_outer_block(kind):
    dr = build(kind, dyn_nested)
    result = dr.execute(["grand"], inputs=NESTED_INPUTS, overrides={"outer_val": 100})
    # inner items 100, 101 -> inner_val 101, 102 -> inner_sum 203 -> minus 100
    assert result == {"grand": [103, 103, 103]}


INNER_CHAIN_SOURCE = """
from cayley.htypes import Collect, Parallelizable

def outer(n: int) -> Parallelizable[int]:
    return list(range(1, n + 1))

def inner(outer: int) -> Parallelizable[int]:
    return list(range(outer))

def first(inner: int) -> int:
    return inner + 1

def second(first: int) -> int:
    return first * 10

def inner_sum(second: Collect[int]) -> int:
    return sum(second)

def outer_sums(inner_sum: Collect[int]) -> list[int]:
    return list(inner_sum)
"""


def test_nested_chain_without_overrides(kind):
    dr = build(kind, ad_hoc_utils.module_from_source(INNER_CHAIN_SOURCE))
    assert dr.execute(["outer_sums"], inputs={"n": 3}) == {"outer_sums": [10, 30, 60]}


@pytest.mark.timeout(60)
def test_overriding_the_item_reading_node_of_a_nested_block(kind):
    dr = build(kind, ad_hoc_utils.module_from_source(INNER_CHAIN_SOURCE))
    result = dr.execute(["outer_sums"], inputs={"n": 3}, overrides={"first": 1})
    # every inner item: second = 10; outer item k has k inner items
    assert result == {"outer_sums": [10, 20, 30]}


def test_overriding_every_node_of_a_nested_block(kind):
    dr = build(kind, dyn_nested)
    result = dr.execute(["grand"], inputs=NESTED_INPUTS, overrides={"inner_val": 1})
    # inner_val is 1 for each of the 2 inner items: inner_sum = 2, minus outer_val
    assert result == {"grand": [2, -8, -18]}


# ---- the seed example ---------------------------------------------------------------------
@pytest.fixture
def corpus(tmp_path):
    texts = {
        "a.txt": "the quick brown fox",
        "b.txt": "jumps over\nthe lazy dog again",
        "c.txt": "",
        "d.txt": "one",
    }
    for name, text in texts.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    (tmp_path / "ignored.md").write_text("not a text file", encoding="utf-8")
    return tmp_path


def test_word_count_seed_example(kind, corpus):
    dr = build(kind, dyn_words)
    result = dr.execute(["total_words", "counts", "url"], inputs={"corpus_dir": str(corpus)})
    assert result == {
        "total_words": 11,
        "counts": [4, 6, 0, 1],
        "url": [str(corpus / n) for n in ("a.txt", "b.txt", "c.txt", "d.txt")],
    }
