"""Base classes for configuration-driven transforms, used with ``@dynamic_transform`` and ``@model``.

A transform object is built from a config value when the graph is built; it names the nodes
it reads (:meth:`DynamicTransformBase.get_dependents`) and computes the node from them
(:meth:`DynamicTransformBase.compute`)::

    class WeightedSum(models.BaseModel):
        def get_dependents(self) -> list[str]:
            return list(self.config_parameters)

        def predict(self, **columns: pd.Series) -> pd.Series:
            return sum(weight * columns[name] for name, weight in self.config_parameters.items())

    @model(WeightedSum, "score_weights")
    def score() -> pd.Series:
        '''A score weighted by the config's score_weights.'''

With ``config={"score_weights": {"clicks": 0.3, "views": 0.7}}``, node ``score`` reads nodes
``clicks`` and ``views``.
"""

from __future__ import annotations

import abc
from typing import Any

__all__ = ["BaseModel", "DynamicTransformBase"]


class DynamicTransformBase(abc.ABC):
    """A node's logic built from configuration.

    Args:
        config_parameters: the config value named by the decorator.
        name: the name of the node the transform computes.
    """

    def __init__(self, config_parameters: Any, name: str) -> None:
        self._config_parameters = config_parameters
        self._name = name

    @abc.abstractmethod
    def get_dependents(self) -> list[str]:
        """Names of the nodes the transform reads; they become the node's inputs."""

    @abc.abstractmethod
    def compute(self, **inputs: Any) -> Any:
        """The node's value, from the values of :meth:`get_dependents` passed by name."""

    @property
    def config_parameters(self) -> Any:
        """The config value the transform was built from."""
        return self._config_parameters

    @property
    def name(self) -> str:
        """The name of the node the transform computes."""
        return self._name


class BaseModel(DynamicTransformBase, abc.ABC):
    """A transform whose computation is a model's prediction from its input columns."""

    def compute(self, **inputs: Any) -> Any:
        """Delegates to :meth:`predict`."""
        return self.predict(**inputs)

    @abc.abstractmethod
    def predict(self, **inputs: Any) -> Any:
        """The prediction (typically a pandas Series) from the input columns, by name."""
