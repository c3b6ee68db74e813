"""``touchstream worker``: one Faust worker of the pipeline."""

from __future__ import annotations

import click

from streams.cli.common import (
    current_settings,
)


@click.command()
def worker() -> None:
    """Run a Faust worker: all agents, the ClickHouse sink and the HTTP views."""
    from agents.app import run_worker
    from streams.io.kafka_admin import create_topics

    settings = current_settings()
    create_topics(settings)
    run_worker(settings)
