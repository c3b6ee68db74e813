"""The models the scoring stage serves, loaded from the model directory, and kept when a
newer one is broken.

Layout: ``<model_dir>/<name>/<version>/`` (``model_artefact``: verified on load) and
``<model_dir>/<name>/CURRENT``, the version to serve, written last and atomically by
``publish``; without ``CURRENT`` the most recently written version directory is served.
``<model_dir>/clv.json`` holds fitted BG/NBD + Gamma-Gamma parameters (``clv_params``);
without it the published CDNOW fit is used (``CDNOW_CLV``).

Invariants:
- a ``ModelSlot`` only ever serves an artefact that loaded and verified; ``refresh`` that finds
  a missing, altered or unreadable artefact keeps the one it serves (logged, counted in
  ``failures``) and never falls back to nothing once something loaded;
- with nothing loadable and ``required``, ``refresh`` raises ``ModelUnavailable`` (the worker
  stops with the reason); otherwise the stage scores with the rules and says so in
  ``model_version``;
- nothing here scores; it only decides which verified model is current.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from streams.predictive.clv import BgNbdParams, GammaGammaParams
from streams.predictive.features import LEAD_REASON_CODES
from streams.predictive.model import Scorer
from streams.predictive.model_artefact import ArtefactError, ModelArtefact, save_artefact
from streams.predictive.model_contributions import Contributions
from streams.predictive.reasons import ReasonCode

log = logging.getLogger(__name__)

LEAD_MODEL: Final = "lead_model"
CHURN_MODEL: Final = "churn_model"
CURRENT: Final = "CURRENT"
CLV_FILE: Final = "clv.json"


class ModelUnavailable(RuntimeError):
    """A model the settings require cannot be loaded."""


@dataclass(frozen=True)
class ClvModel:
    """Fitted parameters in weeks (the unit of the published CDNOW fit) and their source."""

    bgnbd: BgNbdParams
    gamma_gamma: GammaGammaParams
    version: str


#: Fader, Hardie and Lee (2005) on CDNOW, in weeks; Gamma-Gamma from their 2005 RFM note
CDNOW_CLV: Final = ClvModel(BgNbdParams(0.243, 4.414, 0.793, 2.426),
                            GammaGammaParams(6.25, 3.74, 15.44), "clv-cdnow-2005")


def publish(artefact: ModelArtefact, model_dir: Path) -> Path:
    """Save ``artefact`` under ``model_dir/<name>/`` and make it the current version."""
    root = model_dir / artefact.name
    target = save_artefact(artefact, root)
    fd, tmp = tempfile.mkstemp(prefix=".CURRENT-", dir=root)
    with os.fdopen(fd, "w") as out:
        out.write(target.name + "\n")
    os.replace(tmp, root / CURRENT)
    return target


def current_version(root: Path) -> str | None:
    """The version ``root/CURRENT`` names, else the newest version directory, else None."""
    try:
        named = (root / CURRENT).read_text().strip()
    except FileNotFoundError:
        named = ""
    if named:
        return named
    versions = [p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")] \
        if root.is_dir() else []
    return max(versions, key=lambda p: p.stat().st_mtime).name if versions else None


def _signature(directory: Path) -> tuple[tuple[str, int, int], ...]:
    try:
        return tuple(sorted((p.name, p.stat().st_mtime_ns, p.stat().st_size)
                            for p in directory.iterdir()))
    except OSError:
        return ()


@dataclass
class ModelSlot:
    """The verified model of one name that the stage serves, reloaded by ``refresh``."""

    root: Path
    required: bool = False
    contributions: Contributions = "shap"
    scorer: Scorer | None = None
    failures: int = 0
    last_error: str | None = None
    _seen: tuple[str, tuple[tuple[str, int, int], ...]] | None = field(default=None, repr=False)

    @property
    def version(self) -> str | None:
        return None if self.scorer is None else self.scorer.version

    def refresh(self) -> bool:
        """Load the current version if it (or its files) changed; True when a new model is
        served. A broken artefact keeps the last good one; see the module's invariants."""
        version = current_version(self.root)
        if version is None:
            return self._missing(f"no model in {self.root}")
        directory = self.root / version
        seen = (version, _signature(directory))
        if seen == self._seen:
            return False
        self._seen = seen
        try:
            scorer = Scorer.load(directory, reason_codes=_codes_for(directory),
                                 contributions=self.contributions)
        except (ArtefactError, OSError, ValueError) as error:
            self.failures += 1
            self.last_error = str(error)
            if self.scorer is None:
                return self._missing(f"model {directory} cannot be loaded: {error}")
            log.error("model %s cannot be loaded, still serving %s: %s", directory,
                      self.scorer.version, error)
            return False
        changed = scorer.version != self.version
        self.scorer, self.last_error = scorer, None
        if changed:
            log.info("serving model %s from %s", scorer.version, directory)
        return changed

    def _missing(self, reason: str) -> bool:
        if self.scorer is not None:  # keep serving what loaded
            self.failures += 1
            self.last_error = reason
            log.error("%s; still serving %s", reason, self.scorer.version)
            return False
        if self.required:
            raise ModelUnavailable(f"{reason} (predictive_require_model is set)")
        self.last_error = reason
        return False


def _codes_for(directory: Path) -> dict[str, ReasonCode] | None:
    """The reason codes of the features the model has (a model may use a subset)."""
    try:
        names = {f["name"] for f in json.loads((directory / "features.json").read_text())}
    except (OSError, ValueError, KeyError, TypeError):
        return None  # Scorer.load reports what is wrong with the artefact
    return {k: v for k, v in LEAD_REASON_CODES.items() if k in names}


def clv_params(model_dir: Path) -> ClvModel:
    """The fitted CLV parameters of ``model_dir/clv.json``, else the published CDNOW fit.
    A file that is there but malformed raises: a silent fallback would change every value."""
    path = model_dir / CLV_FILE
    if not path.exists():
        return CDNOW_CLV
    try:
        data = json.loads(path.read_text())
        return ClvModel(BgNbdParams(**{k: float(data["bgnbd"][k]) for k in ("r", "alpha", "a", "b")}),
                        GammaGammaParams(**{k: float(data["gamma_gamma"][k])
                                            for k in ("p", "q", "gamma")}),
                        str(data["version"]))
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ModelUnavailable(f"{path} is malformed: {error!r}") from error
