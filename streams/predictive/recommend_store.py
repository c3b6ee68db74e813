"""Versioned personalisation models in the model directory, and the one the worker serves.

Layout, as the lead and churn models' (``models``): ``<model_dir>/personalisation/<version>/``
holding ``personalisation.npz`` (``Personalisation.save``) and ``metadata.json`` (data window,
split, hit rates: ``recommend_training``), and ``<model_dir>/personalisation/CURRENT`` naming
the version to serve, written last and atomically by ``publish_personalisation``. A model
directory that has only the older single file ``<model_dir>/personalisation.npz`` serves that.

Invariants:
- a version directory appears whole or not at all (written aside, then renamed); its name is
  the model's content hash, so publishing the same model twice changes nothing;
- ``PersonalisationSlot`` only serves a model that loaded; a ``refresh`` that finds the
  current version missing or unreadable keeps serving the last good one (logged, counted in
  ``failures``); with nothing served yet, an unreadable model raises (a silent fallback to no
  personalisation would change every next best action), and no model at all serves none.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from streams.predictive.models import CURRENT, current_version
from streams.predictive.recommend_profile import PERSONALISATION_FILE, Personalisation

log = logging.getLogger(__name__)

PERSONALISATION_MODEL: Final = "personalisation"
METADATA_FILE: Final = "metadata.json"


def publish_personalisation(model: Personalisation, metadata: dict[str, Any],
                            model_dir: Path) -> Path:
    """Save ``model`` with its metadata as ``model_dir/personalisation/<version>`` and make it
    the current version; returns its directory."""
    root = model_dir / PERSONALISATION_MODEL
    root.mkdir(parents=True, exist_ok=True)
    target = root / model.version
    if not target.exists():
        staging = Path(tempfile.mkdtemp(prefix=f".{model.version}-", dir=root))
        try:
            model.save(staging / PERSONALISATION_FILE)
            (staging / METADATA_FILE).write_text(json.dumps(metadata, indent=2, sort_keys=True))
            os.replace(staging, target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    fd, tmp = tempfile.mkstemp(prefix=".CURRENT-", dir=root)
    with os.fdopen(fd, "w") as out:
        out.write(target.name + "\n")
    os.replace(tmp, root / CURRENT)
    return target


def read_metadata(directory: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((directory / METADATA_FILE).read_text())
    return loaded


@dataclass
class PersonalisationSlot:
    """The personalisation model the scoring stage serves, reloaded by ``refresh``."""

    model_dir: Path
    model: Personalisation | None = None
    failures: int = 0
    last_error: str | None = None
    _seen: tuple[str, int, int] | None = field(default=None, repr=False)

    def _current(self) -> Path | None:
        root = self.model_dir / PERSONALISATION_MODEL
        version = current_version(root)
        if version is not None:
            return root / version / PERSONALISATION_FILE
        legacy = self.model_dir / PERSONALISATION_FILE
        return legacy if legacy.exists() else None

    def refresh(self) -> bool:
        """Load the current model if it (or its file) changed; True when a new one is
        served. See the module's invariants for what a broken one does."""
        path = self._current()
        if path is None:
            return False
        try:
            stat = path.stat()
            seen = (str(path), stat.st_mtime_ns, stat.st_size)
        except OSError as error:
            return self._failed(f"personalisation model {path} is missing: {error}")
        if seen == self._seen:
            return False
        self._seen = seen
        try:
            model = Personalisation.load(path)
        except ValueError as error:
            return self._failed(str(error))
        changed = self.model is None or model.version != self.model.version
        self.model, self.last_error = model, None
        if changed:
            log.info("serving personalisation model %s from %s", model.version, path)
        return changed

    def _failed(self, reason: str) -> bool:
        self.failures += 1
        self.last_error = reason
        if self.model is None:
            raise ValueError(reason)
        log.error("%s; still serving %s", reason, self.model.version)
        return False


__all__ = ["METADATA_FILE", "PERSONALISATION_MODEL", "PersonalisationSlot",
           "publish_personalisation", "read_metadata"]
