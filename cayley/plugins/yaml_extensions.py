"""Hamilton's import path for the YAML loader and saver (``hamilton.plugins.yaml_extensions``)."""

from cayley.io.yaml_adapters import YAMLDataLoader, YAMLDataSaver

__all__ = ["YAMLDataLoader", "YAMLDataSaver"]
