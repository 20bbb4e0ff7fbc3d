"""Defines ``shared`` again (value 2) and ``only_b``; see core_dup_a."""


def shared() -> int:
    return 2


def only_b(shared: int) -> int:
    return shared * 100
