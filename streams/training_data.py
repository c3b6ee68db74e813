"""Builds the labelled intent set ``schemas/models/intent_labelled.jsonl`` from hand-written
phrasings (``schemas/models/intent_phrasings_<lang>.yaml``).

Each phrasing is expanded into a few variants: slots filled with values of its language, an
optional greeting before and courtesy after, and the noise of real chat (lower case, missing
accents, a typo, no final punctuation, shouting). Everything is deterministic: the random
choices of one phrasing are seeded by its language, intent and position.

The split is by phrasing, not by message: every fifth phrasing of a (language, intent) pair
and all its variants belong to the test split, so the test split measures how the model
copes with wordings it has never seen, not with re-filled copies of its training sentences.
"""

from __future__ import annotations

import hashlib
import json
import random
import unicodedata
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Final

import yaml

MODELS_DIR: Final = Path(__file__).resolve().parent.parent / "schemas" / "models"
LABELLED_PATH: Final = MODELS_DIR / "intent_labelled.jsonl"
LANGUAGES: Final = ("en", "es", "fr", "de", "pt")
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


def build(models_dir: Path = MODELS_DIR) -> list[LabelledMessage]:
    """The labelled messages of all languages, in a stable order, without duplicates."""
    out: list[LabelledMessage] = []
    seen: set[str] = set()
    for lang in LANGUAGES:
        data = yaml.safe_load((models_dir / f"intent_phrasings_{lang}.yaml").read_text("utf-8"))
        prefixes: list[str] = data["prefixes"]
        suffixes: list[str] = data["suffixes"]
        intents: dict[str, list[str]] = data["intents"]
        for intent, phrasings in intents.items():
            for i, phrasing in enumerate(phrasings):
                split = "test" if i % TEST_EVERY == TEST_OFFSET else "train"
                rng = random.Random(f"{lang}/{intent}/{i}")
                count = VARIANTS_TEST if split == "test" else VARIANTS_TRAIN
                for text in _variants(rng, phrasing, lang, prefixes, suffixes, count):
                    if text in seen:
                        continue
                    seen.add(text)
                    out.append(LabelledMessage(text, intent, lang, split))
    return out


def write(path: Path = LABELLED_PATH, models_dir: Path = MODELS_DIR) -> str:
    """Writes the labelled set as JSON lines; returns its sha256."""
    lines = [json.dumps(asdict(m), ensure_ascii=False) for m in build(models_dir)]
    data = ("\n".join(lines) + "\n").encode("utf-8")
    path.write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def read(path: Path = LABELLED_PATH) -> list[LabelledMessage]:
    rows: list[LabelledMessage] = []
    for line in path.read_text("utf-8").splitlines():
        if line.strip():
            raw = json.loads(line)
            rows.append(LabelledMessage(str(raw["text"]), str(raw["intent"]),
                                        str(raw["language"]), str(raw["split"])))
    return rows


if __name__ == "__main__":
    print(write())
