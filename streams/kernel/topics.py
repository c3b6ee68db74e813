"""Names every domain shares: dead-letter topics and the kernel's own table."""

from __future__ import annotations

from typing import Final

DLQ_SUFFIX: Final = ".dlq"
DEAD_LETTERS_TABLE: Final = "dead_letters"


def dlq(logical: str) -> str:
    """The dead-letter topic of an input topic."""
    return logical + DLQ_SUFFIX
