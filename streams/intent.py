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
metrics). The in-memory model uses the same float16-rounded weights, so a saved and reloaded
model predicts exactly what the trained one did.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import yaml

from streams.training_data import BITEXT_PATH, MORE_PATH, LabelledMessage, read_all

REPO_ROOT: Final = Path(__file__).resolve().parent.parent
TAXONOMY_PATH: Final = REPO_ROOT / "schemas" / "models" / "intent_taxonomy.yaml"
LABELLED_PATH: Final = REPO_ROOT / "schemas" / "models" / "intent_labelled.jsonl"
MODEL_PATH: Final = REPO_ROOT / "models" / "intent-v2.npz"
#: Version 2 added ``char_in_words`` to the hashing parameters; version 1 files still load.
FORMAT_VERSION: Final = 2
BUCKET_BITS: Final = 18
TOP_SCORES: Final = 3

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


# --- hashed features -------------------------------------------------------------------------

_SEP: Final = 1  # code point that separates the texts of a batch
_SPACE: Final = 32
_MASK32: Final = (1 << 32) - 1


def _multipliers(seed: int, count: int) -> list[int]:
    """Odd 32-bit constants from a splitmix64 sequence (fixed, platform independent)."""
    out, state, mask = [], seed, (1 << 64) - 1
    for _ in range(count):
        state = (state + 0x9E3779B97F4A7C15) & mask
        z = ((state ^ (state >> 30)) * 0xBF58476D1CE4E5B9) & mask
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
        out.append(((z ^ (z >> 31)) & _MASK32) | 1)
    return out


#: Per-position multipliers: one row per n-gram length (row 0 for words), 32 positions.
_MULT: Final = np.array(_multipliers(0x7053_1EA5, 8 * 32), dtype=np.uint32).reshape(8, 32)
_BIGRAM_MULT: Final = np.uint32(_multipliers(0xB16, 1)[0])


def _mix(h: U32, salt: int) -> U32:
    """MurmurHash3's 32-bit finaliser, salted per feature kind."""
    h = h ^ np.uint32(salt)
    h ^= h >> np.uint32(16)
    h *= np.uint32(0x85EBCA6B)
    h ^= h >> np.uint32(13)
    h *= np.uint32(0xC2B2AE35)
    h ^= h >> np.uint32(16)
    return h


@cache
def _char_table(fold: bool) -> U32:
    """Code point -> normalised code point over the Basic Multilingual Plane."""
    table = np.full(0x10000, _SPACE, dtype=np.uint32)
    for cp in range(0x10000):
        ch = chr(cp)
        if not ch.isalnum():
            continue
        if ch.isdigit():
            table[cp] = ord("0")
            continue
        low = ch.lower()
        if fold:
            low = "".join(c for c in unicodedata.normalize("NFKD", low)
                          if not unicodedata.combining(c))
        table[cp] = ord(low[0]) if len(low) == 1 else cp
    table[_SEP] = _SEP
    return table


@dataclass(frozen=True)
class Hashing:
    """Which features are hashed, and into how many buckets."""

    bits: int = BUCKET_BITS
    word_ngrams: tuple[int, ...] = (1, 2)
    char_ngrams: tuple[int, ...] = (3, 4, 5)
    fold_accents: bool = True
    #: character n-grams stay within a word (with the spaces around it), as in fastText
    char_in_words: bool = False

    @property
    def buckets(self) -> int:
        return 1 << self.bits

    def feature_groups(self, texts: Sequence[str]) -> list[tuple[I64, I64]]:
        """(bucket, text index) of the features of ``texts``, one pair of arrays per kind of
        feature, each ordered by text. The last group is a bias feature per text (bucket
        ``self.buckets``), so that no text is without features."""
        n = len(texts)
        joined = "\x01" + "\x01".join(texts) + "\x01"
        cps = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)
        codes = _char_table(self.fold_accents)[np.minimum(cps, np.uint32(0xFFFF))]
        codes[cps > 0xFFFF] = _SPACE
        # one space between words, none next to a separator
        space, sep = codes == _SPACE, codes == _SEP
        before = np.concatenate(([True], space[:-1] | sep[:-1]))
        after = np.concatenate((sep[1:], [True]))
        codes = codes[~(space & (before | after))]
        sep = codes == _SEP
        seen = np.cumsum(sep)  # separators at or before a position
        owner = seen - 1  # the text an n-gram starting here belongs to
        length = len(codes)
        hcodes = np.where(sep, np.uint32(_SPACE), codes)
        shift = np.uint32(32 - self.bits)
        spaces = np.cumsum(hcodes == _SPACE)  # spaces (and separators) at or before a position
        groups: list[tuple[I64, I64]] = []
        for size in self.char_ngrams:
            m = length - size + 1
            if m <= 0:
                continue
            h = hcodes[:m] * _MULT[size, 0]
            for j in range(1, size):
                h += hcodes[j:j + m] * _MULT[size, j]
            # no separator strictly inside the n-gram, and not starting at the final one
            ok = (seen[size - 2:size - 2 + m] == seen[:m]) & (owner[:m] < n)
            if self.char_in_words:  # no space strictly inside
                ok &= spaces[size - 2:size - 2 + m] == spaces[:m]
            groups.append(((_mix(h[ok], size) >> shift).astype(np.int64), owner[:m][ok]))
        word = (codes != _SPACE) & ~sep
        if word.any():
            first = word & ~np.concatenate(([False], word[:-1]))
            positions = np.flatnonzero(word)
            word_start = np.flatnonzero(first)
            word_id = np.cumsum(first)[positions] - 1
            offset = np.minimum(positions - word_start[word_id], 31)
            contrib = hcodes[positions] * _MULT[0, offset]
            wh = np.add.reduceat(contrib, np.flatnonzero(first[positions]), dtype=np.uint32)
            wtext = owner[word_start]
            if 1 in self.word_ngrams:
                groups.append(((_mix(wh, 101) >> shift).astype(np.int64), wtext))
            if 2 in self.word_ngrams and len(wh) > 1:
                same = wtext[:-1] == wtext[1:]
                bh = wh[:-1][same] * _BIGRAM_MULT + wh[1:][same]
                groups.append(((_mix(bh, 102) >> shift).astype(np.int64), wtext[:-1][same]))
        groups.append((np.full(n, self.buckets, dtype=np.int64), np.arange(n, dtype=np.int64)))
        return groups

    def features(self, texts: Sequence[str]) -> tuple[I64, I64]:
        """All features of :meth:`feature_groups` in one pair of arrays, ordered by text."""
        groups = self.feature_groups(texts)
        buckets = np.concatenate([b for b, _ in groups])
        text_ids = np.concatenate([t for _, t in groups])
        order = np.argsort(text_ids, kind="stable")
        return buckets[order], text_ids[order]


#: The intent model's features (chosen on a validation split carved from train).
INTENT_HASHING: Final = Hashing(char_in_words=True)


def segment_sums(values: F32, text_ids: I64, n: int) -> F32:
    """Column sums of ``values`` (classes x features) per text; ``text_ids`` is sorted."""
    out = np.zeros((values.shape[0], n), dtype=np.float32)
    if not len(text_ids):
        return out
    present = np.flatnonzero(np.bincount(text_ids, minlength=n))
    starts = np.searchsorted(text_ids, present)
    out[:, present] = np.add.reduceat(values, starts, axis=1)
    return out


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

    def probabilities(self, texts: Sequence[str]) -> F32:
        n = len(texts)
        k = len(self.labels)
        if n == 0:
            return np.zeros((0, k), dtype=np.float32)
        logits = np.zeros((k, n), dtype=np.float32)
        counts = np.zeros(n, dtype=np.float32)
        for buckets, text_ids in self.hashing.feature_groups(texts):
            # class-major weights: each class gathers from one contiguous 1 MB row
            logits += segment_sums(np.take(self._by_class, buckets, axis=1), text_ids, n)
            counts += np.bincount(text_ids, minlength=n)
        logits *= 1.0 / np.sqrt(counts)
        logits -= logits.max(axis=0)
        p: F32 = np.exp(logits).T
        p /= p.sum(axis=1, keepdims=True)
        return p

    def predict_many(self, texts: Sequence[str]) -> list[IntentPrediction]:
        p = self.probabilities(texts)
        labels = self.labels
        top = np.argsort(-p, axis=1, kind="stable")[:, :TOP_SCORES]
        top_p = np.take_along_axis(p, top, axis=1).astype(np.float64).round(4).tolist()
        return [IntentPrediction(labels[idx[0]], ps[0],
                                 dict(zip([labels[i] for i in idx], ps, strict=True)))
                for idx, ps in zip(top.tolist(), top_p, strict=True)]

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


# --- training from the labelled set ----------------------------------------------------------

#: Weight of the Bitext subset against the hand-written set: English-only and narrower in
#: style, it should help, not outvote, the five languages (chosen on a validation split).
BITEXT_SHARE: Final = 0.25


def sample_weights(rows: Sequence[LabelledMessage]) -> list[float]:
    """Balanced by intent within each source (hand-written, Bitext), the Bitext source scaled
    by BITEXT_SHARE: every intent counts the same whatever its number of messages."""
    def source(r: LabelledMessage) -> bool:
        return r.group.startswith("bitext/")

    count: dict[tuple[bool, str], int] = {}
    for r in rows:
        count[source(r), r.intent] = count.get((source(r), r.intent), 0) + 1
    return [(BITEXT_SHARE if source(r) else 1.0) / count[source(r), r.intent] for r in rows]


def train_from_file(labelled: Sequence[Path] = (LABELLED_PATH, MORE_PATH, BITEXT_PATH),
                    out: Path = MODEL_PATH, *, taxonomy_path: Path = TAXONOMY_PATH,
                    seed: int = 0) -> TrainReport:
    """Trains on the train split of the ``labelled`` files, evaluates on their test split, saves
    to ``out`` (with the test figures of each file in its metadata)."""
    from streams.quality import classification_metrics

    digest = hashlib.sha256()
    for path in labelled:
        digest.update(path.read_bytes())
    sha = digest.hexdigest()
    rows = read_all(labelled)
    train = [r for r in rows if r.split == "train"]
    test = [r for r in rows if r.split == "test"]
    taxonomy = load_taxonomy(taxonomy_path)
    model = IntentModel.train([r.text for r in train], [r.intent for r in train],
                              taxonomy=taxonomy, sample_weight=sample_weights(train), seed=seed)
    predicted = [p.intent for p in model.predict_many([r.text for r in test])]
    metrics = classification_metrics([r.intent for r in test], predicted, taxonomy.names)
    report = TrainReport(metrics.accuracy, metrics.macro_f1, metrics.per_label_f1,
                         taxonomy.names, metrics.confusion, len(train), len(test), sha)
    by_file: dict[str, dict[str, float]] = {}
    for path in labelled:
        names = {r.text for r in read_all([path]) if r.split == "test"}
        pairs = [(r.intent, p) for r, p in zip(test, predicted, strict=True) if r.text in names]
        m = classification_metrics([t for t, _ in pairs], [p for _, p in pairs], taxonomy.names)
        by_file[path.name] = {"accuracy": round(m.accuracy, 4), "macro_f1": round(m.macro_f1, 4),
                              "size": len(pairs)}
    model.metadata = {"model_version": out.stem, "training_sha256": sha, "seed": seed,
                      "training_files": [p.name for p in labelled],
                      "train_size": len(train), "test_size": len(test),
                      "test_accuracy": round(report.accuracy, 4),
                      "test_macro_f1": round(report.macro_f1, 4), "test_by_file": by_file}
    model.save(out)
    return report


def main_train_intent(labelled: Path, out: Path) -> TrainReport:
    """Entry point of ``touchstream train intent``: ``labelled``, the second hand-written set
    and the Bitext subset."""
    return train_from_file((labelled, MORE_PATH, BITEXT_PATH), out)


__all__ = ["INTENT_HASHING", "Hashing", "IntentDef", "IntentModel", "IntentPrediction", "Taxonomy",
           "TrainReport", "conversation_intent", "default_model", "load_taxonomy", "main_train_intent",
           "sample_weights", "segment_sums", "train_from_file"]
