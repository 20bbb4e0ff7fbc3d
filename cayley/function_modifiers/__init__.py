"""Decorators shaping how functions become nodes of the dataflow.

Configuration (``config``, ``hamilton_exclude``), dependency specifiers (``source``,
``value``, ``group``, ``configuration``), expanders (``parameterize*``, ``inject``),
extractors (``extract_columns``, ``extract_fields``, ``unpack_fields``), macros (``does``,
``pipe_input``, ``pipe_output``, ``step``, ``mutate``), sub-dataflows (``subdag``,
``parameterized_subdag``), metadata (``tag``, ``tag_outputs``, ``schema``, ``cache``,
``ray_remote_options``), validation (``check_output``, ``check_output_custom``),
config-driven decorators (``resolve``, ``resolve_from_config``) and execution
(``retry``).
"""

from cayley.function_modifiers import (
    adapters,
    base,
    configuration,
    delayed,
    dependencies,
    expanders,
    extractors,
    macros,
    metadata,
    recursive,
    retry,
    validation,
)

InvalidDecoratorException = base.InvalidDecoratorException
MissingConfigParametersException = base.MissingConfigParametersException

config = configuration.config
hamilton_exclude = configuration.hamilton_exclude()
cayley_exclude = hamilton_exclude

value = dependencies.value
source = dependencies.source
group = dependencies.group
configuration = dependencies.configuration  # noqa: F811  (the specifier, as in Hamilton)
LiteralDependency = dependencies.LiteralDependency
UpstreamDependency = dependencies.UpstreamDependency

parameterize = expanders.parameterize
parameterize_sources = expanders.parameterize_sources
parameterize_values = expanders.parameterize_values
parameterize_extract_columns = expanders.parameterize_extract_columns
ParameterizedExtract = expanders.ParameterizedExtract
inject = expanders.inject
parametrized = expanders.parametrized
parameterized_inputs = expanders.parameterized_inputs
parametrized_input = expanders.parametrized_input

extract_columns = extractors.extract_columns
extract_fields = extractors.extract_fields
unpack_fields = extractors.unpack_fields

does = macros.does
pipe = macros.pipe
pipe_input = macros.pipe_input
pipe_output = macros.pipe_output
mutate = macros.mutate
step = macros.step
apply_to = macros.apply_to
dynamic_transform = macros.dynamic_transform
model = macros.model

tag = metadata.tag
tag_outputs = metadata.tag_outputs
schema = metadata.schema
cache = metadata.cache
ray_remote_options = metadata.ray_remote_options

check_output = validation.check_output
check_output_custom = validation.check_output_custom
IS_DATA_VALIDATOR_TAG = validation.IS_DATA_VALIDATOR_TAG
DATA_VALIDATOR_ORIGINAL_OUTPUT_TAG = validation.DATA_VALIDATOR_ORIGINAL_OUTPUT_TAG

retry = retry.retry  # noqa: F811  (the decorator; its module is function_modifiers.retry)

subdag = recursive.subdag
parameterized_subdag = recursive.parameterized_subdag

resolve = delayed.resolve
ResolveAt = delayed.ResolveAt
resolve_from_config = delayed.resolve_from_config

load_from = adapters.load_from
save_to = adapters.save_to
dataloader = adapters.dataloader
datasaver = adapters.datasaver

__all__ = [
    "DATA_VALIDATOR_ORIGINAL_OUTPUT_TAG",
    "IS_DATA_VALIDATOR_TAG",
    "InvalidDecoratorException",
    "LiteralDependency",
    "MissingConfigParametersException",
    "ParameterizedExtract",
    "ResolveAt",
    "UpstreamDependency",
    "apply_to",
    "cache",
    "cayley_exclude",
    "check_output",
    "check_output_custom",
    "config",
    "configuration",
    "dataloader",
    "datasaver",
    "does",
    "dynamic_transform",
    "extract_columns",
    "extract_fields",
    "group",
    "hamilton_exclude",
    "inject",
    "load_from",
    "model",
    "mutate",
    "parameterize",
    "parameterize_extract_columns",
    "parameterize_sources",
    "parameterize_values",
    "parameterized_inputs",
    "parameterized_subdag",
    "parametrized",
    "parametrized_input",
    "pipe",
    "pipe_input",
    "pipe_output",
    "ray_remote_options",
    "resolve",
    "resolve_from_config",
    "retry",
    "save_to",
    "schema",
    "source",
    "step",
    "subdag",
    "tag",
    "tag_outputs",
    "unpack_fields",
    "value",
]
