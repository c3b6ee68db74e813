"""A trained scoring model as a versioned directory of plain files, and its integrity checks.

Layout of ``<root>/<version>/``: ``model.txt`` (LightGBM text model, trees up to the best
iteration only), ``calibrator.json``, ``features.json`` (names, dtypes and ranges seen in
training), ``drift_reference.json``, ``metadata.json`` (data window, metrics, parameters) and
``manifest.json`` (the SHA-256 of every other file and the version).

Invariants: the version is a hash of the content (model, calibrator, features, reference,
metadata), so equal content has an equal version and any change gives a new one; a directory
is written under a temporary name and renamed into place, so a reader never sees half of it;
loading verifies every file against the manifest and raises ``ArtefactError`` naming what is
wrong: a missing, changed or unreadable artefact is never scored.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from streams.predictive.drift import DriftReference
from streams.predictive.training_calibration import Calibrator

FORMAT = 1
Dtype = Literal["float", "int", "bool"]
CONTENT_FILES = ("model.txt", "calibrator.json", "features.json", "drift_reference.json", "metadata.json")
MANIFEST = "manifest.json"


class ArtefactError(RuntimeError):
    """The model artefact is missing, incomplete, altered or unreadable."""


@dataclass(frozen=True)
class FeatureSpec:
    name: str
    dtype: Dtype
    minimum: float
    maximum: float
    missing_share: float


@dataclass(frozen=True)
class ModelArtefact:
    name: str
    model_text: str
    calibrator: Calibrator
    features: tuple[FeatureSpec, ...]
    reference: DriftReference
    metadata: dict[str, Any]  # window, metrics, parameters, best iteration: JSON data

    @property
    def feature_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.features)

    def files(self) -> dict[str, bytes]:
        """The content files, serialised deterministically (sorted keys, repr floats)."""
        features = [{"name": f.name, "dtype": f.dtype, "min": f.minimum, "max": f.maximum,
                     "missing_share": f.missing_share} for f in self.features]
        metadata = {**self.metadata, "name": self.name, "format": FORMAT}
        return {"model.txt": self.model_text.encode(),
                "calibrator.json": _json(self.calibrator.to_dict()),
                "features.json": _json(features),
                "drift_reference.json": _json(self.reference.to_dict()),
                "metadata.json": _json(metadata)}

    @property
    def version(self) -> str:
        return _version({name: _sha256(data) for name, data in self.files().items()})


def _json(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, indent=1, allow_nan=False).encode()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _version(hashes: dict[str, str]) -> str:
    joined = "\n".join(f"{name} {hashes[name]}" for name in CONTENT_FILES)
    return _sha256(joined.encode())[:16]


def save_artefact(artefact: ModelArtefact, root: Path) -> Path:
    """Write the artefact to ``root/<version>`` (no-op if that version is already there)."""
    files = artefact.files()
    hashes = {name: _sha256(data) for name, data in files.items()}
    version = _version(hashes)
    target = root / version
    if target.exists():
        load_artefact(target)  # an existing directory must be intact, or we say so
        return target
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{version}-", dir=root))
    try:
        for name, data in files.items():
            (staging / name).write_bytes(data)
        (staging / MANIFEST).write_bytes(_json({"version": version, "format": FORMAT, "files": hashes}))
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def _read(directory: Path, name: str) -> bytes:
    try:
        return (directory / name).read_bytes()
    except FileNotFoundError:
        raise ArtefactError(f"model artefact {directory}: {name} is missing") from None
    except OSError as error:
        raise ArtefactError(f"model artefact {directory}: cannot read {name}: {error}") from error


def _parse(directory: Path, name: str, data: bytes) -> Any:
    try:
        return json.loads(data)
    except ValueError as error:
        raise ArtefactError(f"model artefact {directory}: {name} is not valid JSON: {error}") from error


def load_artefact(directory: Path) -> ModelArtefact:
    """Read and verify an artefact directory; raise ``ArtefactError`` on any defect."""
    if not directory.is_dir():
        raise ArtefactError(f"model artefact {directory}: no such directory")
    manifest = _parse(directory, MANIFEST, _read(directory, MANIFEST))
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ArtefactError(f"model artefact {directory}: unknown manifest format")
    expected: dict[str, str] = manifest.get("files", {})
    raw: dict[str, bytes] = {}
    for name in CONTENT_FILES:
        raw[name] = _read(directory, name)
        if name not in expected:
            raise ArtefactError(f"model artefact {directory}: manifest does not list {name}")
        if _sha256(raw[name]) != expected[name]:
            raise ArtefactError(f"model artefact {directory}: {name} does not match its SHA-256 "
                                "in the manifest (altered or truncated)")
    version = _version(expected)
    if manifest.get("version") != version:
        raise ArtefactError(f"model artefact {directory}: manifest version {manifest.get('version')!r} "
                            f"is not the content hash {version}")
    try:
        metadata = _parse(directory, "metadata.json", raw["metadata.json"])
        features = tuple(FeatureSpec(f["name"], f["dtype"], float(f["min"]), float(f["max"]),
                                     float(f["missing_share"]))
                         for f in _parse(directory, "features.json", raw["features.json"]))
        artefact = ModelArtefact(
            name=str(metadata.pop("name")),
            model_text=raw["model.txt"].decode(),
            calibrator=Calibrator.from_dict(_parse(directory, "calibrator.json", raw["calibrator.json"])),
            features=features,
            reference=DriftReference.from_dict(
                _parse(directory, "drift_reference.json", raw["drift_reference.json"])),
            metadata={k: v for k, v in metadata.items() if k != "format"})
    except (KeyError, TypeError, ValueError, UnicodeDecodeError) as error:
        raise ArtefactError(f"model artefact {directory}: malformed content: {error!r}") from error
    if artefact.version != version:
        raise ArtefactError(f"model artefact {directory}: content does not reproduce version {version}")
    return artefact
