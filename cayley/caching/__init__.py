"""Caching node results across runs: ``Builder().with_cache()`` and ``Driver.cache``.

See :mod:`cayley.caching.adapter` for how hits are decided, :mod:`cayley.caching.stores`
for where results live, and the README's *Caching* section for the behaviours.
"""

from cayley.caching.adapter import CacheAdapter, HamiltonCacheAdapter
from cayley.caching.events import CachingBehavior, CachingEvent, CachingEventType
from cayley.caching.fingerprinting import UnfingerprintableError, data_version
from cayley.caching.values import CachedResult

__all__ = [
    "CacheAdapter",
    "CachedResult",
    "CachingBehavior",
    "CachingEvent",
    "CachingEventType",
    "HamiltonCacheAdapter",
    "UnfingerprintableError",
    "data_version",
]
