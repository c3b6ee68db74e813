"""``touchstream identity``: why identifiers were joined into one person, and undoing a join."""

from __future__ import annotations

import click


@click.group("identity")
def identity_group() -> None:
    """Identity resolution: explain a person, undo a wrong join."""
