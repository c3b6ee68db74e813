"""``touchstream worker``: one Faust worker of the pipeline.

Before the Kafka clients start, the worker waits for a bootstrap server to accept a TCP
connection: it says once where it is waiting (and, for a loopback address, that
``touchstream kafka up`` starts a local broker), then retries with back-off, quietly. Without
this, librdkafka logs a "Connect ... failed: Connection refused" line about twenty times a
second for as long as no broker answers.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Callable, Sequence
from typing import Final

import click

from streams.cli.common import (
    console,
    current_settings,
)
from streams.settings import Settings

FIRST_BACKOFF_S: Final = 0.5
MAX_BACKOFF_S: Final = 15.0


def bootstrap_addresses(servers: str) -> list[tuple[str, int]]:
    """``host:port`` pairs of a bootstrap list (``[::1]:9092`` and ``kafka://h:p`` too)."""
    out = []
    for raw in servers.split(","):
        entry = raw.strip().removeprefix("kafka://")
        if not entry:
            continue
        host, _, port = entry.rpartition(":")
        if not host:
            host, port = entry, "9092"
        out.append((host.strip("[]"), int(port)))
    return out


def is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def any_answers(addresses: Sequence[tuple[str, int]], timeout: float = 1.0) -> bool:
    """Whether some bootstrap server accepts a TCP connection."""
    for host, port in addresses:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                return True
        except OSError:
            continue
    return False


def waiting_message(settings: Settings) -> str:
    servers = settings.kafka_bootstrap_servers
    text = (f"Waiting for Kafka at {servers} (TOUCHSTREAM_KAFKA_BOOTSTRAP_SERVERS): nothing "
            "answers there yet; retrying quietly.")
    if all(is_loopback(host) for host, _ in bootstrap_addresses(servers)):
        text += " `touchstream kafka up` starts a local broker."
    return text


def wait_for_kafka(settings: Settings, *, say: Callable[[str], None] = console.print,
                   answers: Callable[[Sequence[tuple[str, int]]], bool] = any_answers,
                   sleep: Callable[[float], None] = time.sleep,
                   deadline_s: float | None = None) -> bool:
    """Return once a bootstrap server answers (True), or after ``deadline_s`` (False).

    Says ``waiting_message`` once, when the first attempt fails, and that Kafka answers once
    it does; nothing in between."""
    addresses = bootstrap_addresses(settings.kafka_bootstrap_servers)
    if answers(addresses):
        return True
    say(waiting_message(settings))
    waited, delay = 0.0, FIRST_BACKOFF_S
    while deadline_s is None or waited < deadline_s:
        sleep(delay)
        waited += delay
        if answers(addresses):
            say(f"Kafka at {settings.kafka_bootstrap_servers} answers after {waited:.0f} s; "
                "starting.")
            return True
        delay = min(delay * 2, MAX_BACKOFF_S)
    return False


@click.command()
def worker() -> None:
    """Run a Faust worker: all agents, the ClickHouse sink and the HTTP views."""
    from agents.app import run_worker
    from streams.io.kafka_admin import create_topics

    settings = current_settings()
    wait_for_kafka(settings)
    create_topics(settings)
    run_worker(settings)
