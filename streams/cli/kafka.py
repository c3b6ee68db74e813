"""The local single-node Kafka broker: ``touchstream kafka up|down|status``."""

from __future__ import annotations

import sys

import click

from streams.cli.common import (
    console,
    current_settings,
    fail,
)


@click.group()
def kafka() -> None:
    """The local single-node Apache Kafka (KRaft) for development, tests and the demo."""


@kafka.command("up")
def kafka_up() -> None:
    """Resolve the broker jars (once), format storage, start the broker, wait until it answers."""
    from streams.io import kafka_local
    try:
        status = kafka_local.up(current_settings())
    except kafka_local.KafkaLocalError as exc:
        fail(str(exc))
        return
    console.print(f"Kafka {status.version} answering on {status.bootstrap} (pid {status.pid})")


@kafka.command("down")
def kafka_down() -> None:
    """Stop the local broker."""
    from streams.io import kafka_local
    stopped = kafka_local.down(current_settings())
    console.print("stopped" if stopped else "not running")


@kafka.command("status")
def kafka_status() -> None:
    """Report whether the local broker runs and answers."""
    from streams.io import kafka_local
    s = kafka_local.status(current_settings())
    state = "answering" if s.answering else ("running, not answering" if s.running else "stopped")
    console.print(
        f"Kafka {s.version} on {s.bootstrap}: {state}"
        + (f", pid {s.pid}" if s.pid else "")
        + (f", {s.topics} topics" if s.topics is not None else "")
    )
    sys.exit(0 if s.answering else 3)
