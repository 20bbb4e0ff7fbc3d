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

LifecycleAdapter = object  # any instance of the classes above

__all__ = [
    "EdgeConnectionHook",
    "GraphAdapter",
    "GraphConstructionHook",
    "GraphExecutionHook",
    "LegacyResultMixin",
    "LifecycleAdapter",
    "LifecycleAdapterSet",
    "NodeExecutionHook",
    "NodeExecutionMethod",
    "ResultBuilder",
    "StaticValidator",
    "TaskExecutionHook",
    "TaskGroupingHook",
    "TaskReturnHook",
    "TaskSubmissionHook",
    "ValidationException",
]
