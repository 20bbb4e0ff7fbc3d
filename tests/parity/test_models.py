"""Model-style dataflows: ``cayley.models`` base classes with ``@model``/``@dynamic_transform``."""

import warnings

import pandas as pd
import pytest

from tests.parity.conftest import Library


def _weighted_sum(lib: Library) -> type:
    class WeightedSum(lib.models.BaseModel):
        def get_dependents(self) -> list[str]:
            return sorted(self.config_parameters)

        def predict(self, **columns: pd.Series) -> pd.Series:
            return sum(weight * columns[name] for name, weight in self.config_parameters.items())

    return WeightedSum


def test_cayley_model_reads_its_inputs_from_config() -> None:
    """Hamilton 1.90 hides the config key from ``@model`` (it declares ``require_config``,
    not ``required_config``) and fails to build; cayley passes it."""
    lib = Library("cayley")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        decorator = lib.function_modifiers.model(_weighted_sum(lib), "weights")

    @decorator
    def score() -> pd.Series:
        """Weighted sum of the configured columns."""

    module = lib.ad_hoc_utils.create_temporary_module(score)
    dr = lib.driver.Builder().with_modules(module).with_config({"weights": {"x": 2, "y": 10}})
    result = dr.build().execute(["score"], inputs={"x": pd.Series([1, 2]), "y": pd.Series([3, 4])})
    pd.testing.assert_series_equal(result["score"], pd.Series([32, 44]))


def test_transform_base_holds_its_config_and_name(lib: Library) -> None:
    class Identity(lib.models.DynamicTransformBase):
        def get_dependents(self) -> list[str]:
            return [self.config_parameters]

        def compute(self, **inputs):
            return inputs[self.config_parameters]

    transform = Identity("column", "out")
    assert (transform.config_parameters, transform.name) == ("column", "out")
    assert transform.get_dependents() == ["column"]
    assert transform.compute(column=5) == 5
    model = _weighted_sum(lib)({"x": 3}, "score")
    assert model.compute(x=pd.Series([1])).tolist() == [3]
    with pytest.raises(TypeError):
        lib.models.BaseModel({}, "abstract")
