"""Data I/O: loaders and savers, the decorators and materializers built on them.

- :mod:`cayley.io.data_adapters`: the ``DataLoader``/``DataSaver`` contracts;
- :mod:`cayley.registry`: which classes implement each format;
- :mod:`cayley.io.materialization`: ``to.<format>`` / ``from_.<format>`` for ``Driver.materialize``;
- :mod:`cayley.io.utils`: the metadata loaders and savers return;
- :mod:`cayley.io.atomic`: atomic writes; :mod:`cayley.io.freshness`: change tokens for loaders.

Importing this package imports no data library.
"""
