"""Ready-made lifecycle adapters that need nothing beyond the standard library.

- :class:`PrintLn` prints each node as it starts and finishes (with timings);
- :class:`PDBDebugger` drops into ``pdb`` before, during or after selected nodes;
- :class:`SlowDownYouMoveTooFast` sleeps a random time before each node (for tests);
- :class:`FunctionInputOutputTypeChecker` checks every input and result deeply at run time;
- :class:`GracefulErrorAdapter` turns a chosen exception into a sentinel value and skips
  whatever depends on it, with :func:`accept_error_sentinels` to opt nodes back in;
- :class:`NoEdgeAndInputTypeChecking` switches the edge and input type checks off.
"""

from __future__ import annotations

import logging
import pdb
import pprint
import random
import time
from collections.abc import Callable, Collection, Iterable, Iterator
from typing import Any, TypeVar

from cayley import htypes
from cayley.lifecycle.api import EdgeConnectionHook, NodeExecutionHook, NodeExecutionMethod
from cayley.node import DependencyType

__all__ = [
    "ERROR_SENTINEL_TAG",
    "FunctionInputOutputTypeChecker",
    "GracefulErrorAdapter",
    "INJECTION_ALLOWED",
    "NoEdgeAndInputTypeChecking",
    "NodeFilter",
    "PDBDebugger",
    "PrintLn",
    "PrintLnHook",
    "SENTINEL_DEFAULT",
    "SlowDownYouMoveTooFast",
    "accept_error_sentinels",
    "should_run_node",
]

logger = logging.getLogger(__name__)

#: Selects nodes: ``None`` (all), a node name, a list of names, or ``f(name, tags) -> bool``.
NodeFilter = Callable[[str, dict[str, Any]], bool] | list[str] | str | None

_Fn = TypeVar("_Fn", bound=Callable[..., Any])


def _check_node_filter(node_filter: NodeFilter) -> NodeFilter:
    """``node_filter`` itself, or ValueError if it is not one of the accepted forms."""
    if node_filter is None or isinstance(node_filter, (str, list)) or callable(node_filter):
        return node_filter
    raise ValueError(
        f"Invalid node filter {node_filter!r}: pass None (all nodes), a node name, a list of "
        "node names, or a callable (node_name, node_tags) -> bool."
    )


def should_run_node(node_name: str, node_tags: dict[str, Any], node_filter: NodeFilter) -> bool:
    """Whether ``node_filter`` selects the node called ``node_name`` with ``node_tags``."""
    if node_filter is None:
        return True
    if isinstance(node_filter, str):
        return node_name == node_filter
    if isinstance(node_filter, list):
        return node_name in node_filter
    if callable(node_filter):
        return bool(node_filter(node_name, node_tags))
    _check_node_filter(node_filter)
    return False


def _short_repr(obj: Any, limit: int = 80) -> str:
    """``str`` of a string or ``repr`` of anything else, cut to ``limit`` characters."""
    text = obj if isinstance(obj, str) else repr(obj)
    return text[:limit]


class PrintLn(NodeExecutionHook):
    """Prints a line when each node starts and when it finishes, with how long it took.

    Args:
        verbosity: 1 prints names, timings and status; 2 also prints the inputs and the
            result (or the error).
        print_fn: receives each message; ``print`` (looked up when called) by default; a
            logger method works too.
        node_filter: which nodes to report (see :data:`NodeFilter`); all by default.

    Under dynamic execution each node runs once per item, so the node is shown as
    ``"{task_id}:{node_name}"`` and timed per task.
    """

    def __init__(
        self,
        verbosity: int = 1,
        print_fn: Callable[[str], Any] | None = None,
        node_filter: NodeFilter = None,
    ) -> None:
        if verbosity not in (1, 2):
            raise ValueError(f"verbosity must be 1 or 2, got {verbosity!r}.")
        self.verbosity = verbosity
        self.print_fn = print_fn
        self.node_filter = _check_node_filter(node_filter)
        self.timer_dict: dict[tuple[str, str | None], float] = {}

    @staticmethod
    def _format_time_delta(delta: float) -> str:
        """Seconds as a short string with a fitting unit: ``30.8μs``, ``1.2ms``, ``3.5s``."""
        if delta < 1e-3:
            return f"{delta * 1e6:.3g}μs"
        if delta < 1:
            return f"{delta * 1e3:.3g}ms"
        return f"{delta:.3g}s"

    @staticmethod
    def _format_node_name(node_name: str, task_id: str | None) -> str:
        """The node's label: its name, prefixed by the task id when there is one."""
        return node_name if task_id is None else f"{task_id}:{node_name}"

    def run_before_node_execution(
        self,
        *,
        node_name: str,
        node_tags: dict[str, Any],
        node_kwargs: dict[str, Any],
        task_id: str | None,
        **future_kwargs: Any,
    ) -> None:
        """Starts the node's timer and prints ``Executing node: <label>.``."""
        if not should_run_node(node_name, node_tags, self.node_filter):
            return
        self.timer_dict[(node_name, task_id)] = time.perf_counter()
        message = f"Executing node: {self._format_node_name(node_name, task_id)}."
        if self.verbosity == 2:
            message += f" Inputs: \n{pprint.pformat(node_kwargs)}"
        (self.print_fn or print)(message)

    def run_after_node_execution(
        self,
        *,
        node_name: str,
        node_tags: dict[str, Any],
        result: Any,
        error: Exception | None,
        success: bool,
        task_id: str | None,
        **future_kwargs: Any,
    ) -> None:
        """Prints how long the node took and whether it succeeded."""
        if not should_run_node(node_name, node_tags, self.node_filter):
            return
        started = self.timer_dict.pop((node_name, task_id), None)
        elapsed = (
            ""
            if started is None
            else f" in {self._format_time_delta(time.perf_counter() - started)}"
        )
        status = "Success" if success else "Failure"
        label = self._format_node_name(node_name, task_id)
        message = f"Finished debugging node: {label}{elapsed}. Status: {status}."
        if self.verbosity == 2:
            if success:
                message += f" Result: \n{pprint.pformat(result)}\n"
            else:
                message += f" Error: \n{pprint.pformat(error)}"
        (self.print_fn or print)(message)


#: Another name for :class:`PrintLn`.
PrintLnHook = PrintLn


class PDBDebugger(NodeExecutionHook, NodeExecutionMethod):
    """Opens the ``pdb`` debugger around the selected nodes (a development aid).

    Args:
        node_filter: which nodes to stop at (see :data:`NodeFilter`).
        before: stop just before the node runs; its name, tags and inputs are local
            variables of the stopped frame.
        during: run the node's function under ``pdb.runcall`` so you can step into it.
        after: stop once the node finished; ``result``, ``error`` and ``success`` are
            local variables too.

    Whenever it stops, :attr:`CONTEXT` holds the node's details.
    """

    #: Details of the node the debugger last stopped at.
    CONTEXT: dict[str, Any] = {}

    def __init__(
        self,
        node_filter: NodeFilter,
        before: bool = False,
        during: bool = False,
        after: bool = False,
    ) -> None:
        self.node_filter = _check_node_filter(node_filter)
        self.run_before = before
        self.run_during = during
        self.run_after = after

    @staticmethod
    def _announce(when: str, context: dict[str, Any]) -> None:
        """Stores ``context`` in :attr:`CONTEXT` and logs what is available."""
        PDBDebugger.CONTEXT = context
        details = "".join(f"\n - {key}: {_short_repr(value)}" for key, value in context.items())
        logger.warning(
            "Opening pdb %s node %s. PDBDebugger.CONTEXT holds:%s",
            when,
            context["node_name"],
            details,
        )

    def run_before_node_execution(
        self,
        *,
        node_name: str,
        node_tags: dict[str, Any],
        node_kwargs: dict[str, Any],
        node_return_type: type,
        task_id: str | None,
        **future_kwargs: Any,
    ) -> None:
        """Stops in ``pdb`` before the node when ``before`` is set and the filter matches."""
        if not (self.run_before and should_run_node(node_name, node_tags, self.node_filter)):
            return
        self._announce(
            "before",
            {
                "node_name": node_name,
                "node_tags": node_tags,
                "node_kwargs": node_kwargs,
                "node_return_type": node_return_type,
                "task_id": task_id,
            },
        )
        pdb.set_trace()

    def run_to_execute_node(
        self,
        *,
        node_name: str,
        node_tags: dict[str, Any],
        node_callable: Callable[..., Any],
        node_kwargs: dict[str, Any],
        task_id: str | None,
        **future_kwargs: Any,
    ) -> Any:
        """Runs the node, under ``pdb.runcall`` when ``during`` is set and the filter matches."""
        if not (self.run_during and should_run_node(node_name, node_tags, self.node_filter)):
            return node_callable(**node_kwargs)
        self._announce(
            "during",
            {
                "node_name": node_name,
                "node_tags": node_tags,
                "node_callable": node_callable,
                "node_kwargs": node_kwargs,
                "task_id": task_id,
                "future_kwargs": future_kwargs,
            },
        )
        return pdb.runcall(node_callable, **node_kwargs)

    def run_after_node_execution(
        self,
        *,
        node_name: str,
        node_tags: dict[str, Any],
        node_kwargs: dict[str, Any],
        node_return_type: type,
        result: Any,
        error: Exception | None,
        success: bool,
        task_id: str | None,
        **future_kwargs: Any,
    ) -> None:
        """Stops in ``pdb`` after the node when ``after`` is set and the filter matches."""
        if not (self.run_after and should_run_node(node_name, node_tags, self.node_filter)):
            return
        self._announce(
            "after",
            {
                "node_name": node_name,
                "node_tags": node_tags,
                "node_kwargs": node_kwargs,
                "node_return_type": node_return_type,
                "result": result,
                "error": error,
                "success": success,
                "task_id": task_id,
            },
        )
        pdb.set_trace()


class SlowDownYouMoveTooFast(NodeExecutionHook):
    """Sleeps a normally distributed time (clipped at zero) before each node; for tests.

    Args:
        sleep_time_mean: mean sleep, in seconds.
        sleep_time_std: standard deviation of the sleep, in seconds.
    """

    def __init__(self, sleep_time_mean: float, sleep_time_std: float) -> None:
        self.sleep_time_mean = sleep_time_mean
        self.sleep_time_std = sleep_time_std

    def run_before_node_execution(self, **future_kwargs: Any) -> None:
        """Sleeps."""
        delay = random.gauss(self.sleep_time_mean, self.sleep_time_std)
        if delay > 0:
            time.sleep(delay)

    def run_after_node_execution(self, **future_kwargs: Any) -> None:
        """Does nothing."""


def _declared_type(entry: Any) -> Any:
    """The type of an input-type entry, which may be ``(type, DependencyType)``."""
    if isinstance(entry, tuple) and len(entry) == 2 and isinstance(entry[1], DependencyType):
        return entry[0]
    return entry


def _matches(value: Any, expected: Any) -> bool:
    """Deep check of ``value`` against ``expected``, understanding the fan-out markers.

    A ``Collect[T]`` parameter receives a list whose items are checked against ``T``; a
    ``Parallelizable[T]`` result must be iterable, and its items are checked only when it
    is a collection (an iterator is never consumed here).
    """
    if htypes.is_collect(expected):
        item_type = htypes.element_type(expected)
        return isinstance(value, Iterable) and all(
            htypes.check_instance(item, item_type) for item in value
        )
    if htypes.is_parallelizable(expected):
        if not isinstance(value, Iterable):
            return False
        if isinstance(value, Iterator) or not isinstance(value, Collection):
            return True
        item_type = htypes.element_type(expected)
        return all(htypes.check_instance(item, item_type) for item in value)
    return htypes.check_instance(value, expected)


class FunctionInputOutputTypeChecker(NodeExecutionHook):
    """Checks, at run time, every node's inputs and result against their annotations.

    The check is deep (:func:`cayley.htypes.check_instance`): ``list[int]`` checks every
    item, ``dict[str, float]`` every key and value, unions and literals are honoured. A
    mismatch raises :class:`TypeError` naming the node, the parameter, and the expected and
    actual types. Leave a container unparameterised to skip checking its contents.

    Args:
        check_input: check each node's inputs before it runs.
        check_output: check each node's result after it ran successfully.
    """

    def __init__(self, check_input: bool = True, check_output: bool = True) -> None:
        self.check_input = check_input
        self.check_output = check_output

    def run_before_node_execution(
        self,
        *,
        node_name: str,
        node_kwargs: dict[str, Any],
        node_input_types: dict[str, Any],
        **future_kwargs: Any,
    ) -> None:
        """Raises TypeError if an input does not match its parameter's annotation."""
        if not self.check_input:
            return
        for param, value in node_kwargs.items():
            if param not in node_input_types:
                continue
            expected = _declared_type(node_input_types[param])
            if not _matches(value, expected):
                raise TypeError(
                    f"Node {node_name!r} received a value of type "
                    f"{htypes.get_type_as_string(type(value))} for parameter {param!r}, "
                    f"expected {htypes.get_type_as_string(expected)}."
                )

    def run_after_node_execution(
        self,
        *,
        node_name: str,
        node_return_type: Any,
        result: Any,
        success: bool,
        **future_kwargs: Any,
    ) -> None:
        """Raises TypeError if a successful node's result does not match its return type."""
        if not (self.check_output and success):
            return
        if not _matches(result, node_return_type):
            raise TypeError(
                f"Node {node_name!r} returned a value of type "
                f"{htypes.get_type_as_string(type(result))}, expected "
                f"{htypes.get_type_as_string(node_return_type)}."
            )


#: The default sentinel of :class:`GracefulErrorAdapter`.
SENTINEL_DEFAULT: Any = None
#: Tag key set by :func:`accept_error_sentinels`.
ERROR_SENTINEL_TAG = "hamilton.error_sentinel"
#: Tag value set by :func:`accept_error_sentinels`.
INJECTION_ALLOWED = "injection is requested"


def accept_error_sentinels(func: _Fn) -> _Fn:
    """Marks a function whose node runs even when some inputs are error sentinels.

    With :class:`GracefulErrorAdapter`, a node that receives the sentinel is normally
    skipped (its value becomes the sentinel too). A node made from a decorated function is
    called instead, with the sentinel in place of each failed input, so it can report or
    aggregate partial results. Pick a sentinel that cannot be mistaken for a real value.
    """
    from cayley.function_modifiers.metadata import tag

    return tag(bypass_reserved_namespaces_=True, **{ERROR_SENTINEL_TAG: INJECTION_ALLOWED})(func)


class GracefulErrorAdapter(NodeExecutionMethod):
    """Turns one kind of exception into a sentinel value and prunes what depends on it.

    A node raising ``error_to_catch`` produces ``sentinel_value`` instead. A node whose
    inputs include the sentinel (the same object, or an equal value of the same type) is not
    called and produces the sentinel as well, unless its function is decorated with
    :func:`accept_error_sentinels` and ``allow_injection`` is on. Values inside the list a
    ``Collect[T]`` parameter receives are not inspected, so a collecting node sees the
    sentinel in place of each failed item.

    For a ``Parallelizable`` node, an input sentinel or a failure when it is called makes a
    single sentinel item. If iterating its items fails, ``try_all_parallel=True`` keeps the
    items produced so far and adds one sentinel item; ``try_all_parallel=False`` replaces
    all of them with one sentinel item.

    Args:
        error_to_catch: the exception class to catch (subclasses included).
        sentinel_value: what a failed or pruned node produces; ``None`` by default.
        try_all_parallel: keep the items produced before a fan-out failed.
        allow_injection: honour :func:`accept_error_sentinels`.
    """

    def __init__(
        self,
        error_to_catch: type[Exception],
        sentinel_value: Any = SENTINEL_DEFAULT,
        try_all_parallel: bool = True,
        allow_injection: bool = True,
    ) -> None:
        self.error_to_catch = error_to_catch
        self.sentinel_value = sentinel_value
        self.try_all_parallel = try_all_parallel
        self.allow_injection = allow_injection

    def _is_sentinel(self, value: Any) -> bool:
        """Whether ``value`` stands for a failure."""
        sentinel = self.sentinel_value
        if value is sentinel:
            return True
        if type(value) is not type(sentinel):
            return False
        try:
            return bool(value == sentinel)
        except Exception:
            return False

    def _items_until_failure(self, items: Iterable[Any]) -> Iterator[Any]:
        """Yields ``items``; on ``error_to_catch`` yields the sentinel once and stops."""
        try:
            yield from items
        except self.error_to_catch:
            yield self.sentinel_value

    def run_to_execute_node(
        self,
        *,
        node_name: str,
        node_tags: dict[str, Any],
        node_callable: Callable[..., Any],
        node_kwargs: dict[str, Any],
        is_expand: bool,
        **future_kwargs: Any,
    ) -> Any:
        """Runs the node, or returns the sentinel when it fails or an input is a sentinel."""
        accepts = self.allow_injection and node_tags.get(ERROR_SENTINEL_TAG) == INJECTION_ALLOWED
        if not accepts and any(self._is_sentinel(v) for v in node_kwargs.values()):
            return [self.sentinel_value] if is_expand else self.sentinel_value
        try:
            value = node_callable(**node_kwargs)
        except self.error_to_catch:
            return [self.sentinel_value] if is_expand else self.sentinel_value
        if not is_expand:
            return value
        if self.try_all_parallel:
            return self._items_until_failure(value)
        try:
            return list(value)
        except self.error_to_catch:
            return [self.sentinel_value]


class NoEdgeAndInputTypeChecking(EdgeConnectionHook):
    """Accepts every edge and every input value, whatever the annotations say.

    The built-in checks are OR-ed with this adapter's answers, so it disables them; handy
    while a dataflow's annotations are still in flux.
    """

    def check_edge_types_match(self, type_from: type, type_to: type, **kwargs: Any) -> bool:
        """Always True."""
        return True

    def validate_input(self, node_type: type, input_value: Any, **kwargs: Any) -> bool:
        """Always True."""
        return True
