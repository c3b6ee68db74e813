"""Personalisation of a profile: recommendations and the best contact time, as details of the
next best action (``customer.scores``, kind ``next_best_action``), where workflows read them
(``personalisation.*`` facts).

``Personalisation`` bundles the item model (``recommend``) and the contact model
(``recommend_contact``), fitted together by ``fit_personalisation`` from ``touchpoints`` and
``conversions`` values and saved as one file (``PERSONALISATION_FILE`` in the model
directory); the scoring stage uses it when the file is there. ``details(model, profile,
as_of)`` reads a profile's recent interactions: their items (``recommend.items_of``: the
profile's interactions carry campaigns; products when they carry ``properties``) and the
hours of its touchpoints; the segment is the ``segment`` attribute, else the lifecycle stage.

Details written (strings, as ``customer.scores`` details are):
- ``recommended``: up to ``k`` item ids, best first, comma-separated;
  ``recommended_because``: the history item behind each (``popular`` for the fallback);
- ``best_contact_hour_of_week`` (0 = Monday 00:00 UTC), ``best_contact_time`` (``tue 18:00
  UTC``), ``contact_confidence``;
- ``personalisation_version``: the model's version;
- ``service_suggestion`` and ``service_reason`` when the person's chat sessions (their
  conversation figures, ``recommend_service``) call for a service.

Invariants: pure over the model and the profile; the same profile and model give the same
details; a file that is there but unreadable raises (a silent fallback would change every
next best action).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np

from streams.predictive.recommend import (
    DEFAULT_POLICY,
    Interaction,
    ItemModel,
    RecommendPolicy,
    fit,
    items_of,
    recommend,
)
from streams.predictive.recommend_contact import (
    ContactModel,
    best_time,
    fit_contact,
    hour_of_week,
    label,
)
from streams.predictive.recommend_service import Conversation, suggest_service

PERSONALISATION_FILE: Final = "personalisation.npz"


@dataclass(frozen=True, eq=False)
class Personalisation:
    items: ItemModel
    contact: ContactModel
    k: int = 5
    policy: RecommendPolicy = DEFAULT_POLICY

    @functools.cached_property
    def version(self) -> str:
        digest = hashlib.blake2b(self.items.version.encode(), digest_size=6)
        digest.update(repr(self.contact.segments).encode())
        digest.update(self.contact.shares.tobytes())
        return f"personal-{digest.hexdigest()}"

    def save(self, path: Path) -> None:
        items = self.items
        with path.open("wb") as out:
            np.savez(out, items=np.array(items.items, dtype=str), neighbours=items.neighbours,
                     similarity=items.similarity, popularity=items.popularity,
                     meta=np.array([items.as_of, items.half_life_days, self.contact.strength,
                                    self.k]),
                     segments=np.array(self.contact.segments, dtype=str),
                     shares=self.contact.shares)

    @staticmethod
    def load(path: Path) -> Personalisation:
        try:
            with np.load(path, allow_pickle=False) as data:
                meta = data["meta"]
                items = ItemModel(tuple(str(i) for i in data["items"]),
                                  data["neighbours"].astype(np.int32),
                                  data["similarity"].astype(np.float32),
                                  data["popularity"].astype(np.float64), int(meta[0]),
                                  float(meta[1]))
                contact = ContactModel(tuple(str(s) for s in data["segments"]),
                                       data["shares"].astype(np.float64), float(meta[2]))
                return Personalisation(items, contact, int(meta[3]),
                                       RecommendPolicy(half_life_days=float(meta[1])))
        except (OSError, ValueError, KeyError, IndexError) as error:
            raise ValueError(f"{path} is not a personalisation model: {error!r}") from error


def load_personalisation(model_dir: Path) -> Personalisation | None:
    """The model of ``model_dir/personalisation.npz``, None when there is none."""
    path = model_dir / PERSONALISATION_FILE
    return Personalisation.load(path) if path.exists() else None


def _person(value: Mapping[str, Any]) -> str:
    ids = value.get("identifiers") or {}
    return str(value.get("person_id") or next((v for v in ids.values() if v), ""))


def fit_personalisation(events: Iterable[tuple[str, Mapping[str, Any]]], as_of: int,
                        segment_of: Mapping[str, str], k: int = 5,
                        policy: RecommendPolicy = DEFAULT_POLICY) -> Personalisation:
    """From (kind, value) of ``touchpoints`` (kind ``touchpoint``) and ``conversions``
    (``conversion``) up to ``as_of``; a value's person is its ``person_id`` when it has one
    (re-keyed events), else its first identifier."""
    interactions: list[Interaction] = []
    hours: dict[str, list[int]] = {}
    for kind, value in events:
        at = int(value["occurred_at"])
        if at > as_of:
            continue
        person = _person(value)
        interactions += [Interaction(person, item, at, w) for item, w in items_of(kind, value)]
        if kind == "touchpoint":
            hours.setdefault(person, []).append(hour_of_week(at))
    return Personalisation(fit(interactions, as_of, policy), fit_contact(hours, segment_of),
                           k, policy)


def history(profile: Mapping[str, Any]) -> list[tuple[str, int, float]]:
    return [(item, int(i["occurred_at"]), w) for i in profile.get("recent") or ()
            if i["kind"] in ("touchpoint", "conversion")
            for item, w in items_of(str(i["kind"]), i)]


def details(model: Personalisation, profile: Mapping[str, Any], as_of: int) -> dict[str, str]:
    suggestions = recommend(model.items, history(profile), as_of, model.k, model.policy)
    hours = [hour_of_week(int(i["occurred_at"])) for i in profile.get("recent") or ()
             if i["kind"] == "touchpoint" and int(i["occurred_at"]) <= as_of]
    attributes = profile.get("attributes") or {}
    segment = str(attributes.get("segment") or profile.get("lifecycle_stage") or "")
    when = best_time(model.contact, hours, segment)
    out = {"recommended": ",".join(s.item for s in suggestions),
            "recommended_because": ",".join(s.because for s in suggestions),
            "best_contact_hour_of_week": str(when.hour_of_week),
            "best_contact_time": f"{label(when.hour_of_week)} UTC",
            "contact_confidence": f"{when.confidence:.3f}",
            "personalisation_version": model.version}
    service = suggest_service(conversations(profile), as_of)
    if service is not None:
        out.update(service_suggestion=service.service, service_reason=service.reason)
    return out


def conversations(profile: Mapping[str, Any]) -> list[Conversation]:
    """The chat sessions of a profile's recent interactions that carry their conversation's
    figures (``customer.profiles`` v2: intent, escalations, sentiment_mean, outcome); a
    conversation counts as resolved only when its outcome says so."""
    out = []
    for i in profile.get("recent") or ():
        figures = i.get("attributes") or {}
        if i["kind"] != "touchpoint" or not figures.get("intent"):
            continue
        try:
            sentiment = float(figures.get("sentiment_mean") or 0.0)
            escalations = int(figures.get("escalations") or 0)
        except ValueError:
            continue  # a figure that is no number says nothing
        out.append(Conversation(str(figures["intent"]), int(i["occurred_at"]),
                                figures.get("outcome") == "resolved", escalations > 0,
                                max(-1.0, min(1.0, sentiment))))
    return out


__all__ = ["PERSONALISATION_FILE", "Personalisation", "details", "fit_personalisation",
           "history", "load_personalisation"]
