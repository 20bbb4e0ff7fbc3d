"""Metadata stores (cache key -> data version) and result stores (data version -> value)."""

from cayley.caching.stores.base import (
    CacheDirectoryError,
    CorruptResultError,
    MetadataRecord,
    MetadataStore,
    ResultNotFound,
    ResultStore,
    StoredSize,
)
from cayley.caching.stores.file import FileResultStore
from cayley.caching.stores.memory import InMemoryMetadataStore, InMemoryResultStore
from cayley.caching.stores.sqlite import SQLiteMetadataStore

__all__ = [
    "CacheDirectoryError",
    "CorruptResultError",
    "FileResultStore",
    "InMemoryMetadataStore",
    "InMemoryResultStore",
    "MetadataRecord",
    "MetadataStore",
    "ResultNotFound",
    "ResultStore",
    "SQLiteMetadataStore",
    "StoredSize",
]
