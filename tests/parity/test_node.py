"""Node objects behave like Hamilton's: callable, renamable, async kept async."""

from __future__ import annotations

import asyncio
import inspect

from tests.parity.conftest import Library


def _adder(lib: Library):
    def adder(x: int, word: str) -> int:
        return x + len(word)

    return lib.node.Node.from_fn(adder)


def test_calling_a_node_calls_its_function(lib: Library) -> None:
    node = _adder(lib)
    assert node(x=2, word="abc") == 5
    assert node(x=0, word="") == 0


def test_reassigned_inputs_are_renamed_and_bound(lib: Library) -> None:
    node = _adder(lib)
    renamed = node.reassign_inputs(input_names={"x": "start"}, input_values={"word": "four"})
    assert list(renamed.input_types) == ["start"]
    assert renamed(start=1) == 5


def test_renaming_a_name_that_is_no_input_is_ignored(lib: Library) -> None:
    node = _adder(lib)
    renamed = node.reassign_inputs(input_names={"absent": "other", "x": "y"})
    assert list(renamed.input_types) == ["y", "word"]
    assert renamed(y=3, word="ab") == 5


def test_reassigning_an_async_node_keeps_it_a_coroutine_function(lib: Library) -> None:
    async def slow(a: int, b: int) -> int:
        await asyncio.sleep(0)
        return a * 10 + b

    node = lib.node.Node.from_fn(slow).reassign_inputs(input_names={"a": "first", "b": "second"})
    assert inspect.iscoroutinefunction(node.callable)
    assert asyncio.run(node(first=4, second=2)) == 42


def test_transform_output_receives_the_result_and_the_call_arguments(lib: Library) -> None:
    node = _adder(lib)
    seen = []

    def describe(result: int, kwargs: dict) -> str:
        seen.append(dict(kwargs))
        return f"{kwargs['word']}={result}"

    described = node.transform_output(describe, str)
    assert described.type is str
    assert described(x=1, word="hi") == "hi=3"
    assert seen == [{"x": 1, "word": "hi"}]


def test_cayley_transform_output_awaits_async_results() -> None:
    from cayley.node import Node

    async def fetch(x: int) -> int:
        await asyncio.sleep(0)
        return x + 1

    doubled = Node.from_fn(fetch).transform_output(lambda result, kwargs: result * 2, int)
    assert inspect.iscoroutinefunction(doubled.callable)
    assert asyncio.run(doubled(x=4)) == 10
