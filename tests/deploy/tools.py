"""The deployment tools the deploy tests run: found on PATH or in ``.cache/bin`` (where
``make deploy-tools`` installs what is missing). Without one, a test is skipped on a
developer's machine and fails in CI (``CI`` set), where the Makefile must have installed it."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.deploy.panels import ROOT


def tool(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path=str(ROOT / ".cache" / "bin"))
    if found:
        return found
    message = f"{name} is not installed: run `make deploy-tools`"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def readme_section(title: str) -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end > 0 else None]

