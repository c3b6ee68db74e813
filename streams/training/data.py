"""Builds the labelled intent set ``schemas/models/intent_labelled.jsonl`` from hand-written
phrasings (``schemas/models/intent_phrasings_<lang>.yaml``).

Each phrasing is expanded into a few variants: slots filled with values of its language, an
optional greeting before and courtesy after, and the noise of real chat (lower case, missing
accents, a typo, no final punctuation, shouting). Everything is deterministic: the random
choices of one phrasing are seeded by its language, intent and position.

The split is by phrasing, not by message: every fifth phrasing of a (language, intent) pair
and all its variants belong to the test split, so the test split measures how the model
copes with wordings it has never seen, not with re-filled copies of its training sentences.
Each message carries its ``group`` (the phrasing it comes from); no group is in both splits.

Later hand-written sets (``EXTRA_SETS``: ``intent_phrasings_<name>.yaml`` ->
``intent_labelled_<name>.jsonl``) are built the same way and kept in their own files, so
that the first (which the language model also trains on) stays as it was; no text of an
earlier set is repeated in a later one.

An English-only set, ``schemas/models/intent_bitext.jsonl``, is a mapped subset of the
Bitext customer-support dataset (CDLA-Sharing-1.0, kept in its own file for that reason);
:func:`import_bitext` builds it from the upstream CSV. See ``schemas/models/README.md``.
"""

from __future__ import annotations

import csv
import hashlib
import json
import random
import re
import sys
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final

import yaml

from streams.kernel.paths import MODEL_DATA_DIR
from streams.training.relabels import GUIDE_RELABELS as GUIDE_RELABELS
from streams.training.relabels import LANGUAGES as LANGUAGES

MODELS_DIR: Final = MODEL_DATA_DIR
LABELLED_PATH: Final = MODELS_DIR / "intent_labelled.jsonl"
MORE_PATH: Final = MODELS_DIR / "intent_labelled_more.jsonl"
BITEXT_PATH: Final = MODELS_DIR / "intent_bitext.jsonl"
GUIDE_PATH: Final = MODELS_DIR / "intent_labelled_guide.jsonl"
VARIED_PATH: Final = MODELS_DIR / "intent_labelled_varied.jsonl"
WIDE_PATH: Final = MODELS_DIR / "intent_labelled_wide.jsonl"
STYLES_PATH: Final = MODELS_DIR / "intent_labelled_styles.jsonl"
VOICES_PATH: Final = MODELS_DIR / "intent_labelled_voices.jsonl"
SEAMS_PATH: Final = MODELS_DIR / "intent_labelled_seams.jsonl"
PAIRS_PATH: Final = MODELS_DIR / "intent_labelled_pairs.jsonl"
GAPS_PATH: Final = MODELS_DIR / "intent_labelled_gaps.jsonl"
#: Phrasing ``i`` of a (language, intent) pair is held out for testing when i % 5 == 2.
TEST_EVERY: Final = 5
TEST_OFFSET: Final = 2
VARIANTS_TRAIN: Final = 4
VARIANTS_TEST: Final = 3

# Slot values, chosen apart from the traffic simulator's (own product names, people, formats).
_PRODUCTS: Final = ("Zephyr K2", "Halo S speaker", "Nova 5", "Ferro grill", "Tundra cooler",
                    "Mosaic tablet", "Quill pen", "Solis panel", "Drift scooter", "Ember heater")
_PRODUCTS_LOCAL: Final[dict[str, tuple[str, ...]]] = {
    "en": _PRODUCTS,
    "es": ("Zephyr K2", "altavoz Halo S", "Nova 5", "grill Ferro", "patinete Drift",
           "calefactor Ember", "Mosaic"),
    "fr": ("Zephyr K2", "haut-parleur Halo S", "Nova 5", "grill Ferro", "scooter Drift",
           "radiateur Ember", "Mosaic"),
    "de": ("Zephyr K2", "Lautsprecher Halo S", "Nova 5", "Grill Ferro", "Roller Drift",
           "Heizlüfter Ember", "Mosaic"),
    "pt": ("Zephyr K2", "alto-falante Halo S", "Nova 5", "grill Ferro", "patinete Drift",
           "aquecedor Ember", "Mosaic"),
}
_NAMES: Final[dict[str, tuple[str, ...]]] = {
    "en": ("Kate", "Omar", "Bella", "Dev", "Rosa", "Sam", "Ines", "Leo"),
    "es": ("Nuria", "Álvaro", "Rocío", "Iker", "Maite", "Gonzalo"),
    "fr": ("Chloé", "Théo", "Manon", "Hugo", "Léa", "Mathis"),
    "de": ("Jonas", "Lena", "Jürgen", "Maren", "Tobias", "Frieda"),
    "pt": ("João", "Ana", "Thiago", "Beatriz", "Rafael", "Luísa"),
}
_MONTHS: Final[dict[str, tuple[str, ...]]] = {
    "en": ("Jan 3", "March 14", "5/22", "last Tuesday", "the 9th", "Oct 30"),
    "es": ("3 de enero", "14/03", "el martes pasado", "el día 9", "30 de octubre"),
    "fr": ("3 janvier", "14/03", "mardi dernier", "le 9", "30 octobre"),
    "de": ("3. Januar", "14.03.", "letzten Dienstag", "dem 9.", "30. Oktober"),
    "pt": ("3 de janeiro", "14/03", "terça passada", "dia 9", "30 de outubro"),
}
_PLANS: Final = ("Starter", "Team", "Premium", "Enterprise", "Plus")
_DOMAINS: Final = ("mail.com", "example.org", "posteo.de", "free.fr", "terra.com.br", "live.es")


@dataclass(frozen=True)
class LabelledMessage:
    text: str
    intent: str
    language: str
    split: str  # "train" | "test"
    group: str = ""  # messages of one group are near-duplicates and share a split


def _fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def _amount(rng: random.Random, lang: str) -> str:
    value = rng.choice((12.5, 19.99, 49.0, 89.9, 120.0, 249.0, 1250.0))
    if lang == "en":
        return rng.choice((f"${value:,.2f}", f"{value:.0f} dollars", f"£{value:.2f}"))
    text = f"{value:,.2f}".replace(",", " ").replace(".", ",")
    if lang == "pt":
        return rng.choice((f"R$ {text}", f"{text} reais", f"{text} €"))
    return rng.choice((f"{text} €", f"{text}€", f"€{value:.0f}"))


def _slots(rng: random.Random, lang: str) -> dict[str, str]:
    name = rng.choice(_NAMES[lang])
    return {
        "name": name,
        "order": rng.choice(("#", "", "A-", "nº ")) + str(rng.randint(10_000, 999_999)),
        "product": rng.choice(_PRODUCTS_LOCAL[lang]),
        "amount": _amount(rng, lang),
        "plan": rng.choice(_PLANS),
        "date": rng.choice(_MONTHS[lang]),
        "days": str(rng.randint(3, 30)),
        "email": f"{_fold(name).lower()}{rng.randint(1, 99)}@{rng.choice(_DOMAINS)}",
        "last4": f"{rng.randint(0, 9999):04d}",
        "seats": str(rng.choice((4, 10, 15, 25, 60, 200))),
    }


def _typo(rng: random.Random, text: str) -> str:
    letters = [i for i, c in enumerate(text) if c.isalpha()]
    if len(letters) < 6:
        return text
    i = rng.choice(letters[1:-1])
    kind = rng.randrange(3)
    if kind == 0:  # swap with the next character
        return text[:i] + text[i + 1] + text[i] + text[i + 2:]
    if kind == 1:  # drop it
        return text[:i] + text[i + 1:]
    return text[:i] + text[i] + text[i:]  # double it


def _noisy(rng: random.Random, text: str) -> str:
    roll = rng.random()
    if roll < 0.15:
        text = text.lower()
    elif roll < 0.25:
        text = _fold(text)
    elif roll < 0.42:
        text = _typo(rng, text)
    elif roll < 0.52:
        text = text.rstrip(".!?")
    elif roll < 0.56:
        text = text.upper()
    elif roll < 0.62:
        text = _fold(text).lower().rstrip(".!?")
    return text


def _variants(rng: random.Random, phrasing: str, lang: str, prefixes: list[str],
              suffixes: list[str], count: int) -> Iterator[str]:
    for k in range(count):
        slots = _slots(rng, lang)
        text = phrasing.format_map(slots)
        if k == 0:  # the phrasing as written
            yield text
            continue
        if rng.random() < 0.35:
            text = rng.choice(prefixes).format_map(slots) + " " + text
        if rng.random() < 0.35:
            text = text + " " + rng.choice(suffixes).format_map(slots)
        yield _noisy(rng, text)


def _expand(lang: str, data: dict[str, Any], group: str,
            seen: set[str]) -> Iterator[LabelledMessage]:
    """The variants of every phrasing of one language's ``data`` (prefixes, suffixes,
    intents), split by phrasing; texts in ``seen`` are skipped, new ones added to it."""
    prefixes: list[str] = data["prefixes"]
    suffixes: list[str] = data["suffixes"]
    intents: dict[str, list[str]] = data["intents"]
    for intent, phrasings in intents.items():
        for i, phrasing in enumerate(phrasings):
            split = "test" if i % TEST_EVERY == TEST_OFFSET else "train"
            key = f"{group}{lang}/{intent}/{i}"
            label = GUIDE_RELABELS.get(key, intent)
            rng = random.Random(key)
            count = VARIANTS_TEST if split == "test" else VARIANTS_TRAIN
            for text in _variants(rng, phrasing, lang, prefixes, suffixes, count):
                if text in seen:
                    continue
                seen.add(text)
                yield LabelledMessage(text, label, lang, split, key)


def build(models_dir: Path = MODELS_DIR) -> list[LabelledMessage]:
    """The labelled messages of all languages, in a stable order, without duplicates."""
    out: list[LabelledMessage] = []
    seen: set[str] = set()
    for lang in LANGUAGES:
        data = yaml.safe_load((models_dir / f"intent_phrasings_{lang}.yaml").read_text("utf-8"))
        out.extend(_expand(lang, data, "", seen))
    return out


#: The later hand-written sets, in order: ``intent_phrasings_<name>.yaml`` ->
#: ``intent_labelled_<name>.jsonl``, groups ``<name>/``, no text of an earlier set repeated.
#: more: the intents the model confused; guide: the guide's thin boundaries; varied: every
#: intent in many styles and business vocabularies; wide: classes the others cover thinly;
#: styles: formal letters, rambling, chatty and multi-topic messages of every intent;
#: voices: every intent in each language's own wording, in businesses the others name less;
#: seams: every intent, weighted to the seams the development sets show weakest (an angry
#: fault, an access problem told as a grievance, a grievance with no task in it); pairs: every
#: intent, weighted by language to the intent pairs the development sets confuse most; gaps:
#: English and French only, weighted to those languages' weakest pairs (built, but not in
#: ``TRAINING_PATHS``: grouped cross-validation found no gain, schemas/models/README.md).
EXTRA_SETS: Final = ("more", "guide", "varied", "wide", "styles", "voices", "seams", "pairs",
                     "gaps")


def build_extra(name: str, models_dir: Path = MODELS_DIR) -> list[LabelledMessage]:
    """The labelled messages of the later set ``name`` (one of ``EXTRA_SETS``): same
    expansion and split by phrasing as the first set."""
    earlier = [build(models_dir)]
    for extra in EXTRA_SETS:
        seen = {m.text for rows in earlier for m in rows}
        data = yaml.safe_load((models_dir / f"intent_phrasings_{extra}.yaml").read_text("utf-8"))
        rows = [m for lang in LANGUAGES if lang in data
                for m in _expand(lang, data[lang], f"{extra}/", seen)]
        if extra == name:
            return rows
        earlier.append(rows)
    raise KeyError(name)


def build_more(models_dir: Path = MODELS_DIR) -> list[LabelledMessage]:
    return build_extra("more", models_dir)


def build_guide(models_dir: Path = MODELS_DIR) -> list[LabelledMessage]:
    return build_extra("guide", models_dir)


def build_varied(models_dir: Path = MODELS_DIR) -> list[LabelledMessage]:
    return build_extra("varied", models_dir)


def build_wide(models_dir: Path = MODELS_DIR) -> list[LabelledMessage]:
    return build_extra("wide", models_dir)


def build_styles(models_dir: Path = MODELS_DIR) -> list[LabelledMessage]:
    return build_extra("styles", models_dir)


def build_voices(models_dir: Path = MODELS_DIR) -> list[LabelledMessage]:
    return build_extra("voices", models_dir)


def build_seams(models_dir: Path = MODELS_DIR) -> list[LabelledMessage]:
    return build_extra("seams", models_dir)


def build_pairs(models_dir: Path = MODELS_DIR) -> list[LabelledMessage]:
    return build_extra("pairs", models_dir)


def build_gaps(models_dir: Path = MODELS_DIR) -> list[LabelledMessage]:
    return build_extra("gaps", models_dir)


# --- the Bitext subset -----------------------------------------------------------------------

#: Bitext intent -> ours. Intents left out do not map onto one of ours without guessing:
#: cancel_order (refund only when money back is asked), check_cancellation_fee (pricing or
#: cancellation), contact_customer_service (not explicitly a person), switch_account (mostly
#: plan upgrades, which our rules call purchase_inquiry), shipping addresses (account or order
#: change), review and newsletter_subscription (no intent of ours).
BITEXT_INTENTS: Final[dict[str, str]] = {
    "check_invoice": "billing", "get_invoice": "billing", "payment_issue": "billing",
    "check_payment_methods": "billing",
    "get_refund": "refund", "track_refund": "refund", "check_refund_policy": "refund",
    "place_order": "purchase_inquiry", "change_order": "purchase_inquiry",
    "track_order": "purchase_inquiry", "delivery_options": "purchase_inquiry",
    "delivery_period": "purchase_inquiry",
    "create_account": "account", "edit_account": "account", "recover_password": "account",
    "registration_problems": "account",
    "delete_account": "cancellation",
    "contact_human_agent": "human_request",
    "complaint": "complaint",
}
#: Two messages of one intent are near-duplicates when the Jaccard overlap of their content
#: words reaches this.
LINK_JACCARD: Final = 0.6
BITEXT_TEST_SHARE: Final = 0.2
_FILLER: Final = frozenset((
    "a", "about", "am", "an", "any", "are", "assistance", "assist", "at", "be", "can", "could",
    "did", "do", "does", "dont", "don't", "for", "from", "get", "got", "gotta", "has", "have",
    "help", "helping", "how", "i", "i'd", "i'm", "id", "if", "im", "in", "is", "it", "know",
    "like", "me", "my", "need", "no", "not", "of", "on", "pls", "please", "plz", "see", "show",
    "some", "support", "tell", "that", "the", "there", "this", "to", "trying", "try", "u", "ur",
    "wanna", "want", "what", "when", "where", "will", "with", "would", "ya", "you", "your"))


def content_words(text: str) -> frozenset[str]:
    """Lower-cased words of ``text`` without filler words, digits read as ``0``."""
    words = re.findall(r"[a-z0]+", re.sub(r"\d+", "0", _fold(text).lower()))
    return frozenset(w for w in words if w not in _FILLER)


def near_duplicate(a: frozenset[str], b: frozenset[str]) -> bool:
    return bool(a and b) and len(a & b) / len(a | b) >= LINK_JACCARD


def link_groups(texts: Sequence[str]) -> list[int]:
    """Group number of each text: the connected components of the near-duplicate relation
    (single link), so that chains of paraphrases stay together."""
    words = [content_words(t) for t in texts]
    parent = list(range(len(texts)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(len(texts)):
        for j in range(i + 1, len(texts)):
            if near_duplicate(words[i], words[j]):
                parent[root(i)] = root(j)
    roots = [root(i) for i in range(len(texts))]
    number = {r: n for n, r in enumerate(dict.fromkeys(roots))}
    return [number[r] for r in roots]


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def import_bitext(rows: Iterable[dict[str, str]]) -> list[LabelledMessage]:
    """Our labelled messages from Bitext CSV rows (``instruction``, ``intent``): mapped, de-
    duplicated (case and spacing ignored), grouped by :func:`link_groups` within each of our
    intents, and split by group: groups are taken into ``test``, in the order of a hash of
    their texts, while the test share of the intent stays within BITEXT_TEST_SHARE."""
    by_intent: dict[str, dict[str, str]] = defaultdict(dict)
    for row in rows:
        intent = BITEXT_INTENTS.get(row["intent"])
        text = " ".join(row["instruction"].split())
        if intent and text:
            by_intent[intent].setdefault(text.lower(), text)
    out: list[LabelledMessage] = []
    for intent in sorted(by_intent):
        texts = sorted(by_intent[intent].values())
        groups = link_groups(texts)
        members: dict[int, list[str]] = defaultdict(list)
        for text, g in zip(texts, groups, strict=True):
            members[g].append(text)
        keys = {g: _digest("\n".join(m)) for g, m in members.items()}
        test: set[int] = set()
        taken, budget = 0, BITEXT_TEST_SHARE * len(texts)
        for g in sorted(members, key=keys.__getitem__):
            if taken + len(members[g]) <= budget:
                test.add(g)
                taken += len(members[g])
        for text, g in zip(texts, groups, strict=True):
            out.append(LabelledMessage(text, intent, "en", "test" if g in test else "train",
                                       f"bitext/{intent}/{keys[g][:12]}"))
    return out


# --- files -----------------------------------------------------------------------------------


def _write(path: Path, messages: Sequence[LabelledMessage]) -> str:
    lines = [json.dumps(asdict(m), ensure_ascii=False) for m in messages]
    data = ("\n".join(lines) + "\n").encode("utf-8")
    path.write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def write(path: Path = LABELLED_PATH, models_dir: Path = MODELS_DIR) -> str:
    """Writes the labelled set as JSON lines; returns its sha256."""
    return _write(path, build(models_dir))


def write_extra(name: str, models_dir: Path = MODELS_DIR) -> str:
    """Writes the later set ``name`` to ``intent_labelled_<name>.jsonl``; returns its sha256."""
    return _write(models_dir / f"intent_labelled_{name}.jsonl", build_extra(name, models_dir))


def write_bitext(csv_path: Path, path: Path = BITEXT_PATH) -> str:
    """Writes the Bitext subset from the upstream CSV; returns its sha256."""
    with csv_path.open(encoding="utf-8", newline="") as fh:
        return _write(path, import_bitext(csv.DictReader(fh)))


def read(path: Path = LABELLED_PATH) -> list[LabelledMessage]:
    rows: list[LabelledMessage] = []
    for line in path.read_text("utf-8").splitlines():
        if line.strip():
            raw = json.loads(line)
            rows.append(LabelledMessage(str(raw["text"]), str(raw["intent"]),
                                        str(raw["language"]), str(raw["split"]),
                                        str(raw.get("group", ""))))
    return rows


#: The labelled files the intent model trains on.
TRAINING_PATHS: Final = (LABELLED_PATH, MORE_PATH, GUIDE_PATH, VARIED_PATH, WIDE_PATH,
                         STYLES_PATH, VOICES_PATH, SEAMS_PATH, PAIRS_PATH, BITEXT_PATH)


def read_all(paths: Sequence[Path] = TRAINING_PATHS) -> list[LabelledMessage]:
    """The messages of several labelled files, in order (the intent model trains on all)."""
    return [m for p in paths for m in read(p)]


if __name__ == "__main__":
    # python -m streams.training.data                 -> the hand-written sets
    # python -m streams.training.data --bitext X.csv  -> the Bitext subset from its CSV
    if len(sys.argv) == 3 and sys.argv[1] == "--bitext":
        print(write_bitext(Path(sys.argv[2])))
    else:
        print(write())
        for extra in EXTRA_SETS:
            print(write_extra(extra))
