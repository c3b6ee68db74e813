"""The local schema registry: ``touchstream registry up|down|status``."""

from __future__ import annotations

import sys

import click

from streams.cli.common import console, current_settings, fail


@click.group()
def registry() -> None:
    """The local Apicurio Registry (Confluent-compatible API) for development, tests and the demo."""


@registry.command("up")
def registry_up() -> None:
    """Resolve the registry app (once), start it on loopback, wait until it is ready."""
    from streams.io import registry_local
    try:
        status = registry_local.up(current_settings())
    except registry_local.RegistryLocalError as exc:
        fail(str(exc))
        return
    console.print(f"Apicurio Registry {status.version} ready at {status.url} (pid {status.pid}); "
                  f"set TOUCHSTREAM_SCHEMA_REGISTRY_URL={status.url}")


@registry.command("down")
def registry_down() -> None:
    """Stop the local registry."""
    from streams.io import registry_local
    stopped = registry_local.down(current_settings())
    console.print("stopped" if stopped else "not running")


@registry.command("status")
def registry_status() -> None:
    """Report whether the local registry runs and answers."""
    from streams.io import registry_local
    s = registry_local.status(current_settings())
    state = "answering" if s.answering else ("running, not answering" if s.running else "stopped")
    console.print(f"Apicurio Registry {s.version} at {s.url}: {state}"
                  + (f", pid {s.pid}" if s.pid else ""))
    sys.exit(0 if s.answering else 3)
