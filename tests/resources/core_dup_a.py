"""Defines ``shared`` (value 1) and ``only_a``; see core_dup_b."""


def shared() -> int:
    return 1


def only_a(shared: int) -> int:
    return shared * 10
