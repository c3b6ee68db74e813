"""The `touchstream` command line: one module per command group."""

from __future__ import annotations

import logging

import click

from streams.cli import (
    attribution,
    connectors,
    conversations,
    db,
    demo,
    dlq,
    identity,
    importing,
    ingest,
    kafka,
    optimise,
    registry,
    simulate,
    sql,
    topics,
    train,
    worker,
    workflows,
)
from streams.cli.common import current_settings


@click.group()
def main() -> None:
    """touchstream: real-time customer intelligence on Kafka, Faust and ClickHouse."""
    logging.basicConfig(
        level=current_settings().log_level.upper(),
        format="[%(asctime)s] %(levelname)s %(name)s: %(message)s",
    )


for command in (kafka.kafka, topics.topics_group, db.db, worker.worker, simulate.simulate,
                ingest.ingest, sql.sql, dlq.dlq, importing.import_group, train.train, demo.demo,
                conversations.conversations):
    main.add_command(command)
main.add_command(connectors.connectors_group)
main.add_command(optimise.optimise)
main.add_command(registry.registry)
main.add_command(workflows.workflows)
main.add_command(identity.identity_group)
main.add_command(attribution.attribution_group)
simulate.simulate.add_command(connectors.simulate_platforms)
