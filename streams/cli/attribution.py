"""``touchstream attribution``: the data-driven attribution models (Markov chain, Shapley), run on demand."""

from __future__ import annotations

import click


@click.group("attribution")
def attribution_group() -> None:
    """Multi-touch attribution: run the Markov and Shapley models."""
