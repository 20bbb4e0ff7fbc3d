"""Count the words of a set of documents: fan out per document, fan in for the total.

Each function is a node: its name is what it produces, its parameters are what it needs.
"""

from __future__ import annotations

import pathlib
from collections import Counter

from cayley.htypes import Collect, Parallelizable


def url(corpus_dir: str) -> Parallelizable[str]:
    """One item per document of the corpus (a local stand-in for a list of URLs)."""
    for path in sorted(pathlib.Path(corpus_dir).glob("*.txt")):
        yield str(path)


def url_loaded(url: str) -> str:
    """The text of one document."""
    return pathlib.Path(url).read_text(encoding="utf-8")


def counts(url_loaded: str) -> int:
    """Number of words in one document."""
    return len(url_loaded.split())


def top_words(url_loaded: str) -> list[str]:
    """The three most frequent words of one document."""
    words = [w.strip(".,;:!?\"'()").lower() for w in url_loaded.split()]
    return [w for w, _ in Counter(w for w in words if len(w) > 3).most_common(3)]


def total_words(counts: Collect[int]) -> int:
    """Words over all documents."""
    return sum(counts)


def words_per_document(
    counts: Collect[int], top_words: Collect[list[str]]
) -> list[tuple[int, list[str]]]:
    """Word count and top words of each document, in document order."""
    return list(zip(counts, top_words))
