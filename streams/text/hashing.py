"""Hashed n-gram features of texts, computed for a whole batch at once with numpy.

Texts are lower-cased (accents folded or kept), digits read as ``0`` and punctuation as a
space; word n-grams and character n-grams (optionally within words, with the spaces around
each word, as in fastText) are hashed into 2^bits buckets. Hashing, lookup and summing run as
numpy operations over a whole batch, never per n-gram in Python. The hash is a fixed
polynomial over code points followed by a 64-bit mixer: stable across processes and platforms
(Python's salted ``hash()`` is never used). The intent and language models share it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Final

import numpy as np
import numpy.typing as npt

U32 = npt.NDArray[np.uint32]
I64 = npt.NDArray[np.int64]
F32 = npt.NDArray[np.float32]

#: buckets of the intent model's hashing (2^18)
BUCKET_BITS: Final = 18

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


def segment_sums(values: F32, text_ids: I64, n: int) -> F32:
    """Column sums of ``values`` (classes x features) per text; ``text_ids`` is sorted."""
    out = np.zeros((values.shape[0], n), dtype=np.float32)
    if not len(text_ids):
        return out
    present = np.flatnonzero(np.bincount(text_ids, minlength=n))
    starts = np.searchsorted(text_ids, present)
    out[:, present] = np.add.reduceat(values, starts, axis=1)
    return out
