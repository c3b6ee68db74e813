"""VADER sentiment (vaderSentiment 3.3.2), re-implemented for speed with identical scores.

Same lexicon and emoji files (read from the installed ``vaderSentiment`` package), same rules
and same floating-point operations in the same order, so ``polarity_scores`` returns exactly
VADER's ``(compound, pos, neu, neg)``. What makes it faster:

- one ``str.split`` and a cache of per-token properties (stripped form, lower case, ALL CAPS,
  lexicon valence, booster value, negation) with sets of the tokens seen, of those that carry
  a valence and of those that can modify one, so a text of known tokens is sorted into
  neutral / plain / needs-the-rules by three C-level set passes;
- a fast path: a text without any scoring lexicon word is neutral without running the rules;
- the rules run only at lexicon words, reading their neighbours from the cached properties,
  and only where a neighbour can modify the word;
- a text where no lexicon word has a modifier near it skips the rules altogether;
- emoji are looked for only in non-ASCII text; rounding avoids ``round``'s decimal
  conversion when the result is unambiguous, and is written out inline in the scoring.

VADER's quirks are kept on purpose (they change scores): a booster's sign follows the valence
at that moment, "so"/"this" just before a word multiply it by 1.25, ``_but_check`` rescales
the first sentiment equal to each value (``list.index``), emoji descriptions are glued to the
next character, and lexicon keys with capitals are unreachable (lookups use lower case).
"""

from __future__ import annotations

import math
import re
import string
from collections.abc import Sequence
from functools import cache
from importlib import resources
from typing import Final

#: (compound, pos, neu, neg), rounded as VADER rounds them.
Scores = tuple[float, float, float, float]

B_INCR: Final = 0.293
B_DECR: Final = -0.293
C_INCR: Final = 0.733
N_SCALAR: Final = -0.74

NEGATE: Final = frozenset({
    "aint", "arent", "cannot", "cant", "couldnt", "darent", "didnt", "doesnt",
    "ain't", "aren't", "can't", "couldn't", "daren't", "didn't", "doesn't",
    "dont", "hadnt", "hasnt", "havent", "isnt", "mightnt", "mustnt", "neither",
    "don't", "hadn't", "hasn't", "haven't", "isn't", "mightn't", "mustn't",
    "neednt", "needn't", "never", "none", "nope", "nor", "not", "nothing", "nowhere",
    "oughtnt", "shant", "shouldnt", "uhuh", "wasnt", "werent",
    "oughtn't", "shan't", "shouldn't", "uh-uh", "wasn't", "weren't",
    "without", "wont", "wouldnt", "won't", "wouldn't", "rarely", "seldom", "despite",
})

_BOOSTER_UP: Final = (
    "absolutely", "amazingly", "awfully", "completely", "considerable", "considerably", "decidedly",
    "deeply", "effing", "enormous", "enormously", "entirely", "especially", "exceptional",
    "exceptionally", "extreme", "extremely", "fabulously", "flipping", "flippin", "frackin", "fracking",
    "fricking", "frickin", "frigging", "friggin", "fully", "fuckin", "fucking", "fuggin", "fugging",
    "greatly", "hella", "highly", "hugely", "incredible", "incredibly", "intensely", "major", "majorly",
    "more", "most", "particularly", "purely", "quite", "really", "remarkably", "so", "substantially",
    "thoroughly", "total", "totally", "tremendous", "tremendously", "uber", "unbelievably", "unusually",
    "utter", "utterly", "very"
)
_BOOSTER_DOWN: Final = (
    "almost", "barely", "hardly", "kinda", "kindof", "kind-of", "less", "little", "marginal",
    "marginally", "occasional", "occasionally", "partly", "scarce", "scarcely", "slight", "slightly",
    "somewhat", "sorta", "sortof", "sort-of"
)
BOOSTER_DICT: Final[dict[str, float]] = {
    **dict.fromkeys(_BOOSTER_UP, B_INCR),
    **dict.fromkeys(_BOOSTER_DOWN, B_DECR),
    "just enough": B_DECR, "kind of": B_DECR, "sort of": B_DECR,
}

SPECIAL_CASES: Final[dict[str, float]] = {
    "the shit": 3, "the bomb": 3, "bad ass": 1.5, "badass": 1.5, "bus stop": 0.0,
    "yeah right": -2, "kiss of death": -1.5, "to die for": 3, "beating heart": 3.5,
}

#: One word of each multi-word special case or booster phrase (its least common one): a phrase
#: can only match in a window that holds its anchor, so a window without any skips the check.
_IDIOM_ANCHORS: Final = frozenset({
    "shit", "bomb", "ass", "bus", "yeah", "kiss", "die", "beating", "enough", "kind", "sort",
})
#: Words that can change a neighbouring lexicon word's valence (besides boosters, negations
#: and idiom anchors). A lexicon word with none of these within three words before or two
#: after, and not in ALL CAPS, keeps its lexicon valence.
_CONTEXT_WORDS: Final = frozenset({"no", "least", "never", "without", "so", "this", "kind"})
_SO_THIS: Final = ("so", "this")
_OR_NOR: Final = ("or", "nor")
_PUNCTUATION: Final = string.punctuation
_ZERO: Final[Scores] = (0.0, 0.0, 0.0, 0.0)
_NEUTRAL: Final[Scores] = (0.0, 0.0, 1.0, 0.0)
#: The token cache is dropped when it grows past this (order numbers, e-mail addresses, ...).
_CACHE_LIMIT: Final = 200_000

# Per-token properties: (lower, is_upper, in_lexicon, scoring valence or None, booster or None,
# negates, can modify a neighbour). The scoring valence is None for boosters, as VADER skips
# them as sentiment words.
_Token = tuple[str, bool, bool, float | None, float | None, bool, bool]


def _package_text(name: str) -> str:
    # Bytes decoded without newline translation, as VADER's codecs.open reads them.
    return resources.files("vaderSentiment").joinpath(name).read_bytes().decode("utf-8")


@cache
def load_lexicon() -> dict[str, float]:
    """VADER's word → valence table, parsed as VADER parses it."""
    lexicon: dict[str, float] = {}
    for line in _package_text("vader_lexicon.txt").rstrip("\n").split("\n"):
        if not line:
            continue
        word, measure = line.strip().split("\t")[0:2]
        lexicon[word] = float(measure)
    return lexicon


@cache
def load_emoji() -> dict[str, str]:
    """VADER's emoji → description table, restricted to the one-character keys (VADER looks
    emoji up character by character, so longer sequences never match)."""
    emoji: dict[str, str] = {}
    for line in _package_text("emoji_utf8_lexicon.txt").rstrip("\n").split("\n"):
        key, description = line.strip().split("\t")[0:2]
        emoji[key] = description
    return {key: description for key, description in emoji.items() if len(key) == 1}


def _candidate_pattern(emoji: dict[str, str]) -> re.Pattern[str]:
    """A cheap superset of the emoji characters: the few below U+2000 one by one (accented
    letters must not match), then one range over all the others. A character class of every
    emoji is exact but costs ~100x more per character."""
    low = sorted(char for char in emoji if char < "\u2000")
    high = [char for char in emoji if char >= "\u2000"]
    parts = [re.escape(char) for char in low]
    if high:
        parts.append(f"{re.escape(min(high))}-{re.escape(max(high))}")
    return re.compile("[" + "".join(parts) + "]")


def _special_idioms(valence: float, lows: Sequence[str], i: int) -> float:
    onezero = f"{lows[i - 1]} {lows[i]}"
    twoonezero = f"{lows[i - 2]} {lows[i - 1]} {lows[i]}"
    twoone = f"{lows[i - 2]} {lows[i - 1]}"
    threetwoone = f"{lows[i - 3]} {lows[i - 2]} {lows[i - 1]}"
    threetwo = f"{lows[i - 3]} {lows[i - 2]}"
    for seq in (onezero, twoonezero, twoone, threetwoone, threetwo):
        if seq in SPECIAL_CASES:
            valence = SPECIAL_CASES[seq]
            break
    n = len(lows)
    if n - 1 > i:
        zeroone = f"{lows[i]} {lows[i + 1]}"
        if zeroone in SPECIAL_CASES:
            valence = SPECIAL_CASES[zeroone]
    if n - 1 > i + 1:
        zeroonetwo = f"{lows[i]} {lows[i + 1]} {lows[i + 2]}"
        if zeroonetwo in SPECIAL_CASES:
            valence = SPECIAL_CASES[zeroonetwo]
    for n_gram in (threetwoone, threetwo, twoone):
        if n_gram in BOOSTER_DICT:
            valence = valence + BOOSTER_DICT[n_gram]
    return valence


def _but_check(lows: Sequence[str], positions: list[int], valences: list[float]) -> None:
    """VADER's contrastive 'but', including its ``list.index`` lookup: each value rescales the
    *first* sentiment equal to it. Zero sentiments (skipped here) stay zero either way."""
    bi = lows.index("but")
    for value in list(valences):
        si = valences.index(value)
        pos = positions[si]
        if pos < bi:
            valences[si] = value * 0.5
        elif pos > bi:
            valences[si] = value * 1.5


class FastVader:
    """VADER's ``polarity_scores`` with the same results, several times faster."""

    def __init__(self) -> None:
        self._lexicon = load_lexicon()
        self._emoji = load_emoji()
        self._emoji_re = _candidate_pattern(self._emoji)
        self._tokens: dict[str, _Token] = {}
        # The same raw tokens as a set: testing that a text's tokens are all known is then one
        # C-level pass (a set keeps each hash next to its key, so misses read less memory).
        self._known: set[str] = set()
        self._hot: set[str] = set()  # raw tokens that carry a scoring valence
        self._valences: dict[str, float] = {}  # hot raw token → its scoring valence
        self._mods: set[str] = set()  # raw tokens that can change a score beyond their own

    def _learn(self, raw: str) -> _Token:
        known = self._tokens.get(raw)
        if known is not None:
            return known
        stripped = raw.strip(_PUNCTUATION)
        token = raw if len(stripped) <= 2 else stripped
        low = token.lower()
        valence = self._lexicon.get(low)
        booster = BOOSTER_DICT.get(low)
        score = None if booster is not None else valence
        low2 = low.lower()
        negates = low2 in NEGATE or "n't" in low2
        special = (
            negates or booster is not None or low in _CONTEXT_WORDS or low in _IDIOM_ANCHORS
        )
        info: _Token = (
            low, token.isupper(), valence is not None, score, booster, negates, special,
        )
        self._tokens[raw] = info
        self._known.add(raw)
        if score is not None:
            self._hot.add(raw)
            self._valences[raw] = score
        if special or low == "but" or (score is not None and info[1]):
            self._mods.add(raw)
        return info

    def _demoji(self, text: str) -> str:
        """``text`` with each emoji replaced by its description, spaced as VADER spaces it: a
        space before it unless the previous character is a space (or there is none), none
        after it."""
        first = self._emoji_re.search(text)
        if first is None:  # accented letters, no emoji: the common non-ASCII text
            return text
        emoji = self._emoji
        pieces: list[str] = []
        done = 0
        for match in self._emoji_re.finditer(text, first.start()):
            description = emoji.get(match.group())
            if description is None:
                continue
            at = match.start()
            pieces.append(text[done:at])
            pieces.append(" " + description if at and text[at - 1] != " " else description)
            done = at + 1
        if not pieces:
            return text
        pieces.append(text[done:])
        return "".join(pieces)

    def polarity_scores(self, text: str) -> Scores:
        """(compound, pos, neu, neg) of ``text``, equal to VADER's."""
        if not text.isascii():
            text = self._demoji(text)
        raws = text.split()
        if not raws:
            return _ZERO
        if not self._known.issuperset(raws):
            self._learn_new(raws)
        if self._hot.isdisjoint(raws):
            return _NEUTRAL
        if self._mods.isdisjoint(raws):
            # Every lexicon word keeps its valence; zeros only add to the neutral count.
            return _score_valence(list(filter(None, map(self._valences.get, raws))), len(raws), text)
        return self._score(text, list(map(self._tokens.__getitem__, raws)))

    def _learn_new(self, raws: list[str]) -> None:
        """Learns the tokens of one text that are not cached yet."""
        if len(self._tokens) >= _CACHE_LIMIT:
            # Dropped between texts only: the sets must cover every token of this one.
            self._tokens.clear()
            self._known.clear()
            self._hot.clear()
            self._valences.clear()
            self._mods.clear()
        known = self._known
        for raw in raws:
            if raw not in known:
                self._learn(raw)

    def score_many(self, texts: Sequence[str]) -> list[Scores]:
        """Scores of ``texts``, in order."""
        score = self.polarity_scores
        return [score(text) for text in texts]

    def _score(self, text: str, infos: list[_Token]) -> Scores:
        lows, uppers, in_lex, scores, boosters, negates, specials = zip(*infos, strict=True)
        n = len(infos)
        last = n - 1
        cap_diff: bool | None = None
        positions: list[int] = []
        valences: list[float] = []
        for i, lexval in enumerate(scores):
            if lexval is None:
                continue
            if not uppers[i] and True not in specials[i - 3 if i > 3 else 0 : i + 3]:
                positions.append(i)  # nothing around it changes its valence
                valences.append(lexval)
                continue
            low = lows[i]
            if low == "kind" and i < last and lows[i + 1] == "of":
                continue
            valence = lexval
            if low == "no" and i != last and in_lex[i + 1]:
                valence = 0.0
            if (i > 0 and lows[i - 1] == "no") or (i > 1 and lows[i - 2] == "no") or (
                i > 2 and lows[i - 3] == "no" and lows[i - 1] in _OR_NOR
            ):
                valence = lexval * N_SCALAR
            if uppers[i]:
                if cap_diff is None:
                    cap_diff = 0 < n - sum(uppers) < n
                if cap_diff:
                    if valence > 0:
                        valence += C_INCR
                    else:
                        valence -= C_INCR
            for start_i in (0, 1, 2):
                if i <= start_i:
                    break
                j = i - start_i - 1
                if in_lex[j]:
                    continue
                # scalar_inc_dec
                booster = boosters[j]
                s = 0.0
                if booster is not None:
                    s = booster
                    if valence < 0:
                        s *= -1
                    if uppers[j]:
                        if cap_diff is None:
                            cap_diff = 0 < n - sum(uppers) < n
                        if cap_diff:
                            if valence > 0:
                                s += C_INCR
                            else:
                                s -= C_INCR
                    if start_i == 1:
                        s = s * 0.95
                    elif start_i == 2:
                        s = s * 0.9
                valence = valence + s
                # _negation_check
                if start_i == 0:
                    if negates[j]:
                        valence = valence * N_SCALAR
                elif start_i == 1:
                    if lows[i - 2] == "never" and lows[i - 1] in _SO_THIS:
                        valence = valence * 1.25
                    elif lows[i - 2] == "without" and lows[i - 1] == "doubt":
                        pass
                    elif negates[j]:
                        valence = valence * N_SCALAR
                else:
                    if (lows[i - 3] == "never" and lows[i - 2] in _SO_THIS) or lows[i - 1] in _SO_THIS:
                        valence = valence * 1.25
                    elif lows[i - 3] == "without" and (lows[i - 2] == "doubt" or lows[i - 1] == "doubt"):
                        pass
                    elif negates[j]:
                        valence = valence * N_SCALAR
                    if not _IDIOM_ANCHORS.isdisjoint(lows[i - 3 : i + 3]):
                        valence = _special_idioms(valence, lows, i)
            # _least_check
            if i > 1 and not in_lex[i - 1] and lows[i - 1] == "least":
                if lows[i - 2] != "at" and lows[i - 2] != "very":
                    valence = valence * N_SCALAR
            elif i > 0 and not in_lex[i - 1] and lows[i - 1] == "least":
                valence = valence * N_SCALAR
            positions.append(i)
            valences.append(valence)

        if "but" in lows:
            _but_check(lows, positions, valences)
        return _score_valence(valences, n, text)


#: Adding then subtracting 1.5 * 2**52 rounds a double of magnitude below 2**51 to an integer
#: (the sum's unit in the last place is 1), without a function call.
_RINT: Final = 6755399441055744.0


def _score_valence(valences: list[float], n: int, text: str) -> Scores:
    """VADER's score_valence over the non-zero sentiments; the other ``n - k`` are zeros.

    VADER's ``normalize`` and :func:`round_half_even` are written out inline: on a short message
    their five calls cost about as much as the arithmetic. ``pos``, ``neu`` and ``neg`` come from
    ``fabs``, so they are never negative and a zero ``k`` (+0.0) is what ``round`` gives too;
    only the signed compound needs the built-in at zero.
    """
    sum_s = float(sum(valences))
    ep_count = text.count("!")
    if ep_count > 4:
        ep_count = 4
    ep_amplifier = ep_count * 0.292
    qm_count = text.count("?")
    qm_amplifier: float = 0
    if qm_count > 1:
        qm_amplifier = qm_count * 0.18 if qm_count <= 3 else 0.96
    punct = ep_amplifier + qm_amplifier
    if sum_s > 0:
        sum_s += punct
    elif sum_s < 0:
        sum_s -= punct
    compound = sum_s / math.sqrt((sum_s * sum_s) + 15)
    if compound < -1.0:
        compound = -1.0
    elif compound > 1.0:
        compound = 1.0

    pos_sum = 0.0
    neg_sum = 0.0
    polar = 0
    for value in valences:
        if value > 0:
            pos_sum += float(value) + 1
            polar += 1
        elif value < 0:
            neg_sum += float(value) - 1
            polar += 1
    neu_count = n - polar
    if pos_sum > math.fabs(neg_sum):
        pos_sum += punct
    elif pos_sum < math.fabs(neg_sum):
        neg_sum -= punct
    total = pos_sum + math.fabs(neg_sum) + neu_count
    pos = math.fabs(pos_sum / total)
    neu = math.fabs(neu_count / total)
    neg = math.fabs(neg_sum / total)

    y = compound * 10000.0
    k = y + _RINT - _RINT
    d = y - k
    compound = k / 10000.0 if k and -0.4999999 < d < 0.4999999 else round(compound, 4)
    y = pos * 1000.0
    k = y + _RINT - _RINT
    d = y - k
    pos = k / 1000.0 if -0.4999999 < d < 0.4999999 else round(pos, 3)
    y = neu * 1000.0
    k = y + _RINT - _RINT
    d = y - k
    neu = k / 1000.0 if -0.4999999 < d < 0.4999999 else round(neu, 3)
    y = neg * 1000.0
    k = y + _RINT - _RINT
    d = y - k
    neg = k / 1000.0 if -0.4999999 < d < 0.4999999 else round(neg, 3)
    return (compound, pos, neu, neg)


def round_half_even(x: float, scale: float, ndigits: int) -> float:
    """``round(x, ndigits)`` (``scale == 10.0 ** ndigits``, ``|x * scale| < 2**51``), about
    twice as fast.

    The built-in rounds the exact binary value of ``x`` and returns the double nearest to the
    decimal result, ``k / scale``, which a correctly rounded division also gives. ``x * scale``
    is within a tiny fraction of a unit of the exact product, so its nearest integer ``k`` is
    the right one unless the product lies next to a half; those cases, and zero (whose sign the
    built-in keeps), go to the built-in. Whatever ``k`` the addition trick gives, the test on
    ``y - k`` only lets through the nearest integer, so the trick cannot change a result.
    """
    y = x * scale
    k = y + _RINT - _RINT
    d = y - k
    if k and -0.4999999 < d < 0.4999999:
        return k / scale
    return round(x, ndigits)
