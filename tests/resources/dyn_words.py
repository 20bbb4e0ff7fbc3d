"""The seed example: documents fanned out one per item, words counted, totals collected."""

from __future__ import annotations

import pathlib

from cayley.htypes import Collect, Parallelizable


def url(corpus_dir: str) -> Parallelizable[str]:
    """One item per text file of the corpus, in name order (a local stand-in for URLs)."""
    for path in sorted(pathlib.Path(corpus_dir).glob("*.txt")):
        yield str(path)


def url_loaded(url: str) -> str:
    """The text of one document."""
    return pathlib.Path(url).read_text(encoding="utf-8")


def counts(url_loaded: str) -> int:
    """Words in one document."""
    return len(url_loaded.split())


def total_words(counts: Collect[int]) -> int:
    """Words over all documents."""
    return sum(counts)
