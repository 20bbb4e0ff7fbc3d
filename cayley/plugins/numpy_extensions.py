"""Hamilton's import path for the numpy ``.npy`` loader and saver (``hamilton.plugins.numpy_extensions``)."""

from cayley.io.numpy_adapters import NumpyNpyReader, NumpyNpyWriter

__all__ = ["NumpyNpyReader", "NumpyNpyWriter"]
