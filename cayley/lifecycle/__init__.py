"""Lifecycle adapters: hooks, methods and validators that observe and steer a dataflow."""

from cayley.lifecycle.api import (
    EdgeConnectionHook,
    GraphAdapter,
    GraphConstructionHook,
    GraphExecutionHook,
    LegacyResultMixin,
    NodeExecutionHook,
    NodeExecutionMethod,
    ResultBuilder,
    StaticValidator,
    TaskExecutionHook,
    TaskGroupingHook,
    TaskReturnHook,
    TaskSubmissionHook,
)
from cayley.lifecycle.base import LifecycleAdapterSet, ValidationException
from cayley.lifecycle.default import (
    FunctionInputOutputTypeChecker,
    GracefulErrorAdapter,
    NoEdgeAndInputTypeChecking,
    PDBDebugger,
    PrintLn,
    PrintLnHook,
    SlowDownYouMoveTooFast,
    accept_error_sentinels,
)

LifecycleAdapter = object  # any instance of the classes above

__all__ = [
    "EdgeConnectionHook",
    "FunctionInputOutputTypeChecker",
    "GracefulErrorAdapter",
    "GraphAdapter",
    "GraphConstructionHook",
    "GraphExecutionHook",
    "LegacyResultMixin",
    "LifecycleAdapter",
    "LifecycleAdapterSet",
    "NoEdgeAndInputTypeChecking",
    "NodeExecutionHook",
    "NodeExecutionMethod",
    "PDBDebugger",
    "PrintLn",
    "PrintLnHook",
    "ResultBuilder",
    "SlowDownYouMoveTooFast",
    "StaticValidator",
    "TaskExecutionHook",
    "TaskGroupingHook",
    "TaskReturnHook",
    "TaskSubmissionHook",
    "ValidationException",
    "accept_error_sentinels",
]
