"""``touchstream topics create``: the contract's topics."""

from __future__ import annotations

import click

from streams.cli.common import (
    console,
    current_settings,
)


@click.group("topics")
def topics_group() -> None:
    """Kafka topics of the contract."""


@topics_group.command("create")
def topics_create() -> None:
    """Create every input, output and dead-letter topic that is missing."""
    from streams.contract.codec import AvroCodec
    from streams.io.kafka_admin import create_topics

    settings = current_settings()
    created = create_topics(settings)
    AvroCodec.from_settings(settings).register_all()
    for name in created:
        console.print(f"created {name}")
    console.print(f"{len(created)} topics created")


