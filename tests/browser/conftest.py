"""Browser tests: the integration fixtures (real broker, a worker per test) and Debian's
chromium driven by Playwright (``make install`` puts chromium in place)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.integration.conftest import broker, pipeline

__all__ = ["CHROMIUM", "broker", "chromium_page", "pipeline"]

CHROMIUM = Path("/usr/bin/chromium")


@contextmanager
def chromium_page() -> Iterator[tuple[Any, list[str]]]:
    """A page of a headless chromium, and the messages of the dialogs it tried to open (each
    dismissed: an injected ``alert`` shows up there); the browser is closed afterwards."""
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), "Debian's chromium is missing: `make install` installs it"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            page = browser.new_page()
            dialogs: list[str] = []

            def on_dialog(dialog: Any) -> None:
                dialogs.append(dialog.message)
                dialog.dismiss()

            page.on("dialog", on_dialog)
            yield page, dialogs
        finally:
            browser.close()
