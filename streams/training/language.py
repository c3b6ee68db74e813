"""Training the language model: a multinomial naive Bayes over hashed character n-grams and
words, from the labelled message set plus short function-word lists of each language."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from streams.text.language import (
    ALPHA,
    F32,
    FORMAT_VERSION,
    FUNCTION_WORDS,
    HASHING,
    LANGUAGES,
    MODEL_PATH,
)
from streams.training.data import LABELLED_PATH, read


def train(texts: Sequence[str], languages: Sequence[str]) -> F32:
    """Log-probability table (buckets + 1, languages) of a naive Bayes over HASHING."""
    index = {lang: i for i, lang in enumerate(LANGUAGES)}
    all_texts = list(texts) + list(FUNCTION_WORDS.values())
    all_langs = list(languages) + list(FUNCTION_WORDS)
    buckets, text_ids = HASHING.features(all_texts)
    keep = buckets < HASHING.buckets  # the bias feature carries no evidence
    lang_of = np.array([index[lang] for lang in all_langs], dtype=np.int64)
    counts = np.zeros((HASHING.buckets + 1, len(LANGUAGES)), dtype=np.float64)
    np.add.at(counts, (buckets[keep], lang_of[text_ids[keep]]), 1.0)
    counts[: HASHING.buckets] += ALPHA
    logp = np.zeros_like(counts)  # the last row, the prior, stays uniform
    logp[: HASHING.buckets] = np.log(counts[: HASHING.buckets] / counts.sum(axis=0))
    # centre each bucket across languages: only the differences matter, and the table then
    # stores small numbers that float16 keeps well
    logp[: HASHING.buckets] -= logp[: HASHING.buckets].mean(axis=1, keepdims=True)
    table: F32 = logp.astype(np.float16).astype(np.float32)
    return table


def train_from_file(labelled: Path = LABELLED_PATH, out: Path = MODEL_PATH) -> None:
    rows = [r for r in read(labelled) if r.split == "train"]
    table = train([r.text for r in rows], [r.language for r in rows])
    out.parent.mkdir(parents=True, exist_ok=True)
    used = np.flatnonzero(np.any(table != 0, axis=1)).astype(np.int32)
    meta = {"format_version": FORMAT_VERSION, "languages": list(LANGUAGES),
            "hashing": {"bits": HASHING.bits, "word_ngrams": list(HASHING.word_ngrams),
                        "char_ngrams": list(HASHING.char_ngrams)},
            "train_size": len(rows)}
    with out.open("wb") as fh:
        np.savez_compressed(fh, rows=used, weights=table[used].astype(np.float16),
                            metadata=np.array(json.dumps(meta, sort_keys=True)))
