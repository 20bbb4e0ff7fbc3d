"""Running one generated request on cayley's executors and checking it against the reference.

Only the public API is used: ``Builder``, the executors, grouping strategies and an
``ExecutionManager`` subclass, so these checks hold whatever the engine looks like inside.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cayley import ad_hoc_utils, driver
from cayley.execution import executors, grouping
from tests.proving.flows import Flow, Reference
from tests.proving.strategies import Request

#: Grouping strategies a dynamic driver may use.
STRATEGIES: dict[str, Callable[[], grouping.GroupingStrategy] | None] = {
    "blocks": None,
    "individually": grouping.GroupNodesIndividually,
    "by level": grouping.GroupNodesByLevel,
}


class AllOn(executors.ExecutionManager):
    """Sends every task (expanders and fan-ins included) to one executor."""

    def __init__(self, executor: executors.TaskExecutor) -> None:
        super().__init__([executor])
        self.executor = executor

    def get_executor_for_task(self, task: Any) -> executors.TaskExecutor:
        """Always the one executor."""
        return self.executor


def dynamic_driver(
    module: Any,
    remote: executors.TaskExecutor,
    strategy: str = "blocks",
    everything_remote: bool = False,
) -> driver.Driver:
    """A dynamic-execution driver running blocks (or every task) on ``remote``."""
    builder = (
        driver.Builder().with_modules(module).enable_dynamic_execution(allow_experimental_mode=True)
    )
    make_strategy = STRATEGIES[strategy]
    if make_strategy is not None:
        builder = builder.with_grouping_strategy(make_strategy())
    if everything_remote:
        return builder.with_execution_manager(AllOn(remote)).build()
    return (
        builder.with_local_executor(executors.SynchronousLocalTaskExecutor())
        .with_remote_executor(remote)
        .build()
    )


def plain_driver(module: Any) -> driver.Driver:
    """``Builder().with_modules(module).build()``: no dynamic execution."""
    return driver.Builder().with_modules(module).build()


def expected(flow: Flow, request: Request) -> tuple[dict[str, Any] | None, set[str]]:
    """The reference's outputs, or ``None`` and the missing inputs when some are missing."""
    missing = flow.needed_inputs(request.outputs, request.inputs, request.overrides)
    if missing:
        return None, missing
    return Reference(flow, request.inputs, request.overrides).outputs(request.outputs), set()


def describe(flow: Flow, request: Request, label: str) -> str:
    """The failing case as text: the executor, the module source and the request."""
    return (
        f"{label} disagrees with the reference on\n{flow.source()}\n"
        f"outputs={list(request.outputs)}\ninputs={request.inputs}\n"
        f"overrides={request.overrides}"
    )


def check(
    flow: Flow,
    request: Request,
    drivers: dict[str, driver.Driver],
    want: tuple[dict[str, Any] | None, set[str]] | None = None,
) -> None:
    """Runs ``request`` on every driver; each must return the reference's values.

    When required inputs are missing, each must raise a ``ValueError`` naming all of them.
    """
    values, missing = want if want is not None else expected(flow, request)
    for label, dr in drivers.items():
        call = {
            "inputs": dict(request.inputs),
            "overrides": {
                k: list(v) if isinstance(v, list) else v for k, v in request.overrides.items()
            },
        }
        if values is None:
            try:
                dr.execute(list(request.outputs), **call)
            except ValueError as exc:
                text = str(exc)
                absent = [name for name in missing if name not in text]
                assert not absent, f"{describe(flow, request, label)}\nerror omits {absent}: {text}"
                continue
            raise AssertionError(f"{describe(flow, request, label)}\nno error; missing {missing}")
        got = dr.execute(list(request.outputs), **call)
        assert got == values, f"{describe(flow, request, label)}\ngot      {got}\nexpected {values}"


def module_of(flow: Flow, package: str = "cayley") -> Any:
    """The flow's functions as a fresh module (workers receive it by value)."""
    return ad_hoc_utils.module_from_source(flow.source(package))


def module_of_source(source: str) -> Any:
    """A fresh module from hand-written source."""
    return ad_hoc_utils.module_from_source(source)


def plain_builder(module: Any) -> driver.Builder:
    """``Builder().with_modules(module)``, to configure further."""
    return driver.Builder().with_modules(module)
