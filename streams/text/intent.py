"""Intent of a customer message: hashed n-gram features and a softmax (multinomial logistic)
regression trained with numpy.

Features are word unigrams and bigrams and character 3-5-grams within words (with the
spaces around each word, as in fastText: robust to typos and inflection) of the lower-cased,
accent-folded text (digits read as ``0``, punctuation as a space), hashed into 2^18 buckets.
A text's features are binary and L2-normalised (each weighs 1/sqrt(number of features)).
Hashing, lookup and summing run as numpy operations over a whole batch, never per n-gram in
Python, so a batch of thousands of messages costs a few microseconds a message. The hash is a
fixed polynomial over code points followed by a 64-bit mixer: stable across processes and
platforms (Python's salted ``hash()`` is never used).

A model file (``.npz``) holds only the weight rows of buckets seen in training, as float16,
with its metadata (version, taxonomy, hashing parameters, sha256 of the training set, test
metrics, and the ``temperature`` that calibrates its confidences: the logits are divided by
it, which never changes the predicted intent; 1.0 when absent). The in-memory model uses
the same float16-rounded weights, so a saved and reloaded model predicts exactly what the
trained one did.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import yaml

from streams.kernel.paths import MODEL_DATA_DIR, MODELS_DIR
from streams.text.hashing import Hashing, segment_sums
from streams.text.request import request_part

TAXONOMY_PATH: Final = MODEL_DATA_DIR / "intent_taxonomy.yaml"
LABELLED_PATH: Final = MODEL_DATA_DIR / "intent_labelled.jsonl"
MODEL_PATH: Final = MODELS_DIR / "intent-v2.npz"
#: Version 2 added ``char_in_words`` to the hashing parameters; version 1 files still load.
FORMAT_VERSION: Final = 2
TOP_SCORES: Final = 3
#: a message read as a complaint takes the task its request sentences read as, when they
#: read it at least this sure (chosen on the fresh3 and fresh4 development sets among
#: 0.4-0.7; every value gains on both); a courtesy ("please advise", "merci de votre aide")
#: reads as no task (``NO_TASK``), and a request for a person is read by the emotion cues
COMPLAINT: Final = "complaint"
REQUEST_CONFIDENCE: Final = 0.5
NO_TASK: Final = frozenset((COMPLAINT, "other", "human_request"))

U32 = npt.NDArray[np.uint32]
I64 = npt.NDArray[np.int64]
F32 = npt.NDArray[np.float32]

# --- taxonomy --------------------------------------------------------------------------------


@dataclass(frozen=True)
class IntentDef:
    name: str
    team: str
    description: str


@dataclass(frozen=True)
class Taxonomy:
    version: int
    fallback: str
    intents: tuple[IntentDef, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(i.name for i in self.intents)

    def team_for(self, intent: str) -> str:
        for item in self.intents:
            if item.name == intent:
                return item.team
        return self.team_for(self.fallback) if intent != self.fallback else "general"


def load_taxonomy(path: Path = TAXONOMY_PATH) -> Taxonomy:
    raw = yaml.safe_load(path.read_text("utf-8"))
    intents = tuple(IntentDef(str(i["name"]), str(i["team"]), str(i["description"]).strip())
                    for i in raw["intents"])
    names = [i.name for i in intents]
    if len(set(names)) != len(names):
        raise ValueError(f"{path}: duplicate intent names")
    fallback = str(raw.get("fallback", "other"))
    if fallback not in names:
        raise ValueError(f"{path}: fallback intent {fallback!r} is not in the taxonomy")
    return Taxonomy(int(raw.get("version", 1)), fallback, intents)


INTENT_HASHING: Final = Hashing(char_in_words=True)


# --- model -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class IntentPrediction:
    intent: str
    confidence: float
    scores: dict[str, float]  # the top three intents


@dataclass(frozen=True)
class TrainReport:
    accuracy: float
    macro_f1: float
    per_intent_f1: dict[str, float]
    labels: tuple[str, ...]
    confusion: list[list[int]]  # rows: true intent, columns: predicted, in `labels` order
    train_size: int
    test_size: int
    training_sha256: str


@dataclass
class IntentModel:
    taxonomy: Taxonomy
    hashing: Hashing
    weights: F32  # (buckets + 1, intents); the last row is the bias
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._by_class: F32 = np.ascontiguousarray(self.weights.T)

    @property
    def temperature(self) -> float:
        return float(self.metadata.get("temperature", 1.0))

    @property
    def labels(self) -> tuple[str, ...]:
        return self.taxonomy.names

    @classmethod
    def train(cls, texts: Sequence[str], labels: Sequence[str], *, taxonomy: Taxonomy,
              sample_weight: Sequence[float] | None = None, epochs: int = 10, seed: int = 0,
              learning_rate: float = 0.02, weight_decay: float = 1e-4, batch_size: int = 64,
              hashing: Hashing | None = None) -> IntentModel:
        """Weighted softmax regression, minibatch Adam with lazy (touched rows only) updates
        and decoupled weight decay. Deterministic for a given seed."""
        hashing = hashing or INTENT_HASHING
        index = {name: i for i, name in enumerate(taxonomy.names)}
        unknown = sorted(set(labels) - set(index))
        if unknown:
            raise ValueError(f"labels not in the taxonomy: {unknown}")
        n, k = len(texts), len(index)
        y = np.array([index[label] for label in labels], dtype=np.int64)
        sw = (np.ones(n, dtype=np.float32) if sample_weight is None
              else np.asarray(sample_weight, dtype=np.float32))
        sw = sw * (n / sw.sum())
        buckets, text_ids = hashing.features(texts)
        used, compact = np.unique(buckets, return_inverse=True)
        counts = np.bincount(text_ids, minlength=n)
        value = (1.0 / np.sqrt(counts)).astype(np.float32)[text_ids]
        indptr = np.concatenate(([0], np.cumsum(counts)))
        w = np.zeros((len(used), k), dtype=np.float32)
        m, v = np.zeros_like(w), np.zeros_like(w)
        rng = np.random.Generator(np.random.PCG64(seed))
        b1, b2, eps = 0.9, 0.999, 1e-8
        step = 0
        for _ in range(epochs):
            order = rng.permutation(n)
            for lo in range(0, n, batch_size):
                batch = order[lo:lo + batch_size]
                sizes = counts[batch]
                starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
                pos = np.repeat(indptr[batch] - starts, sizes) + np.arange(int(sizes.sum()))
                row = np.repeat(np.arange(len(batch)), sizes)
                feat, val = compact[pos], value[pos]
                logits = np.add.reduceat(w[feat] * val[:, None], starts, axis=0)
                logits -= logits.max(axis=1, keepdims=True)
                p = np.exp(logits)
                p /= p.sum(axis=1, keepdims=True)
                p[np.arange(len(batch)), y[batch]] -= 1.0
                p *= (sw[batch] / len(batch))[:, None]
                by_feat = np.argsort(feat, kind="stable")
                touched, first = np.unique(feat[by_feat], return_index=True)
                grad = np.add.reduceat((p[row] * val[:, None])[by_feat], first, axis=0)
                step += 1
                m[touched] = b1 * m[touched] + (1 - b1) * grad
                v[touched] = b2 * v[touched] + (1 - b2) * grad * grad
                lr = learning_rate * np.sqrt(1 - b2 ** step) / (1 - b1 ** step)
                w[touched] -= lr * m[touched] / (np.sqrt(v[touched]) + eps) + (
                    learning_rate * weight_decay * w[touched])
        dense = np.zeros((hashing.buckets + 1, k), dtype=np.float32)
        dense[used] = w.astype(np.float16).astype(np.float32)
        return cls(taxonomy, hashing, dense)

    def probabilities(self, texts: Sequence[str],
                      groups: list[tuple[I64, I64]] | None = None) -> F32:
        """Calibrated probabilities of every label for each text; ``groups`` are the texts'
        ``self.hashing.feature_groups``, when already computed (another model with the same
        hashing reuses them)."""
        n = len(texts)
        k = len(self.labels)
        if n == 0:
            return np.zeros((0, k), dtype=np.float32)
        logits = np.zeros((k, n), dtype=np.float32)
        counts = np.zeros(n, dtype=np.float32)
        for buckets, text_ids in (self.hashing.feature_groups(texts) if groups is None
                                  else groups):
            # class-major weights: each class gathers from one contiguous 1 MB row
            logits += segment_sums(np.take(self._by_class, buckets, axis=1), text_ids, n)
            counts += np.bincount(text_ids, minlength=n)
        logits *= 1.0 / (np.sqrt(counts) * np.float32(self.temperature))
        logits -= logits.max(axis=0)
        p: F32 = np.exp(logits).T
        p /= p.sum(axis=1, keepdims=True)
        return p

    def predict_many(self, texts: Sequence[str],
                     groups: list[tuple[I64, I64]] | None = None) -> list[IntentPrediction]:
        """The intent of each text (``groups``: as for :meth:`probabilities`)."""
        p = self._task_of_the_request(texts, self.probabilities(texts, groups))
        labels = self.labels
        top = np.argsort(-p, axis=1, kind="stable")[:, :TOP_SCORES]
        top_p = np.take_along_axis(p, top, axis=1).astype(np.float64).round(4).tolist()
        return [IntentPrediction(labels[idx[0]], ps[0],
                                 dict(zip([labels[i] for i in idx], ps, strict=True)))
                for idx, ps in zip(top.tolist(), top_p, strict=True)]

    def _task_of_the_request(self, texts: Sequence[str], p: F32) -> F32:
        """A message read as a complaint whose request sentences (``request.request_part``)
        read as a task (not ``NO_TASK``), at least ``REQUEST_CONFIDENCE`` sure, has that
        task's scores: a complaint is the intent only when dissatisfaction is the main
        purpose (LABELS.md), and a story told before the request is no such purpose. Only
        those messages are read twice."""
        if COMPLAINT not in self.labels:
            return p
        complaint = self.labels.index(COMPLAINT)
        parts = [(i, part) for i in np.flatnonzero(p.argmax(axis=1) == complaint).tolist()
                 if (part := request_part(texts[i])) is not None]
        if not parts:
            return p
        q = self.probabilities([part for _, part in parts])
        for (i, _), row in zip(parts, q, strict=True):
            if (self.labels[int(row.argmax())] not in NO_TASK
                    and float(row.max()) >= REQUEST_CONFIDENCE):
                p[i] = row
        return p

    def predict(self, text: str) -> IntentPrediction:
        return self.predict_many([text])[0]

    def save(self, path: Path) -> None:
        used = np.flatnonzero(np.any(self.weights != 0, axis=1)).astype(np.int32)
        meta = {"format_version": FORMAT_VERSION, "kind": "intent-softmax-hashed",
                "taxonomy": _taxonomy_dict(self.taxonomy), "hashing": asdict(self.hashing),
                **self.metadata}
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as fh:
            np.savez_compressed(fh, rows=used, weights=self.weights[used].astype(np.float16),
                                metadata=np.array(json.dumps(meta, sort_keys=True)))

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> IntentModel:
        with np.load(path, allow_pickle=False) as data:
            meta: dict[str, Any] = json.loads(str(data["metadata"]))
            if meta.get("format_version") not in (1, FORMAT_VERSION):
                raise ValueError(f"{path}: unsupported model format {meta.get('format_version')}")
            raw_tax = meta["taxonomy"]
            taxonomy = Taxonomy(int(raw_tax["version"]), str(raw_tax["fallback"]),
                                tuple(IntentDef(**i) for i in raw_tax["intents"]))
            h = meta["hashing"]
            hashing = Hashing(int(h["bits"]), tuple(h["word_ngrams"]), tuple(h["char_ngrams"]),
                              bool(h["fold_accents"]), bool(h.get("char_in_words", False)))
            weights = np.zeros((hashing.buckets + 1, len(taxonomy.intents)), dtype=np.float32)
            weights[data["rows"]] = data["weights"].astype(np.float32)
        extra = {k: v for k, v in meta.items()
                 if k not in ("format_version", "kind", "taxonomy", "hashing")}
        return cls(taxonomy, hashing, weights, extra)


def _taxonomy_dict(taxonomy: Taxonomy) -> dict[str, Any]:
    return {"version": taxonomy.version, "fallback": taxonomy.fallback,
            "intents": [asdict(i) for i in taxonomy.intents]}


@cache
def default_model() -> IntentModel:
    """The committed model, loaded once."""
    return IntentModel.load(MODEL_PATH)


def conversation_intent(predictions: Sequence[IntentPrediction], *, fallback: str = "other",
                        min_confidence: float = 0.5) -> IntentPrediction | None:
    """Primary intent of a conversation from its customer messages, in order: the first
    confident message that is not small talk, else the most confident non-fallback one, else
    the first message's prediction (None without messages)."""
    if not predictions:
        return None
    specific = [p for p in predictions if p.intent != fallback]
    for p in specific:
        if p.confidence >= min_confidence:
            return p
    if specific:
        return max(specific, key=lambda p: p.confidence)
    return predictions[0]


__all__ = ["INTENT_HASHING", "IntentDef", "IntentModel", "IntentPrediction", "Taxonomy",
           "TrainReport", "conversation_intent", "default_model", "load_taxonomy"]
