"""Lexical cues of a customer message in five languages (en, es, fr, de, pt) that the label
guide (``LABELS.md``) names as reasons to escalate or as the topic deciding a team.

Every cue is a list of lower-case, accent-folded word stems or phrases matched at word starts
of the folded text (``folded``): "scam" matches "scammers", "harto" matches "harta" only when
both are listed. Phrases keep their spaces. Matching is one compiled regular expression per
cue, over text folded once per message (about 10 us a message for all cues).

A composite cue holds when all of its parts occur in one message (``COMPOSITES``: a login,
device or address the customer does not recognise is a security incident).

The stems live in ``streams.text.cue_lexicon`` and, for distress and the topics,
``cue_lexicon_mood`` and ``cue_lexicon_topics`` (data). The cues are deliberately narrow:
each names what the guide names (an insult, a regulator, a hacked account), so that mild
irritation, sarcasm or a polite complaint matches none.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any, Final

from streams.text import cue_lexicon, cue_lexicon_mood, cue_lexicon_topics

_CUES: Final = {**cue_lexicon.STEMS, **cue_lexicon_mood.STEMS, **cue_lexicon_topics.STEMS}
#: cue -> the cues that together make it, in one message
COMPOSITES: Final = {"security": frozenset(("unrecognised", "access_point"))}

_SHOUT_MIN_LETTERS: Final = 12
_SHOUT_SHARE: Final = 0.6


def _fold_table() -> dict[int, str]:
    """Lower-case code point -> its accent-free form, over Latin-1 and Latin Extended-A;
    German sharp s as "ss"."""
    table: dict[int, str] = {0x2019: "'", 0xDF: "ss"}  # "weiß" is also written "weiss"
    for cp in range(0xC0, 0x250):
        ch = chr(cp)
        plain = "".join(c for c in unicodedata.normalize("NFKD", ch)
                        if not unicodedata.combining(c))
        if plain != ch:
            table[cp] = plain
    return table


_FOLD: Final = _fold_table()


def folded(text: str) -> str:
    """Lower case, accents removed, apostrophes straightened, spaces single, a space at
    each end."""
    return " " + " ".join(text.lower().translate(_FOLD).split()) + " "


def _trie_regex(stems: list[str]) -> str:
    """A regular expression matching any of ``stems``, as a trie: at each position the
    engine follows one branch per next character instead of trying every stem (the longest
    stem wins where several match)."""
    trie: dict[str, Any] = {}
    for stem in stems:
        node = trie
        for ch in stem:
            node = node.setdefault(ch, {})
        node[""] = {}

    def walk(node: dict[str, Any]) -> str:
        ends = "" in node
        branches = [re.escape(ch) + walk(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if ends else body

    return walk(trie)


#: stem -> (cues it belongs to, whether it must end a word)
_STEMS: Final[dict[str, tuple[frozenset[str], bool]]] = {}
for _cue, _stems in _CUES.items():
    for _stem in _stems:
        _key = _stem.strip()
        _names, _end = _STEMS.get(_key, (frozenset(), False))
        _STEMS[_key] = (_names | {_cue}, _end or _stem.endswith(" ") or len(_key) <= 3)
#: every stem, at every word start (a zero-width lookahead, so that matches may overlap)
_ANY: Final = re.compile(r"(?<![a-z0-9])(?=(" + _trie_regex(sorted(_STEMS)) + "))")

CUES: Final = tuple(_CUES)


def found_in(text_folded: str) -> frozenset[str]:
    """The names of the cues that occur in ``text_folded`` (see :func:`folded`)."""
    out: set[str] = set()
    for match in _ANY.finditer(text_folded):
        stem = match.group(1)
        names, word_end = _STEMS[stem]
        after = match.start() + len(stem)
        if word_end and after < len(text_folded) and text_folded[after].isalnum():
            continue
        out |= names
    for name, parts in COMPOSITES.items():
        if parts <= out:
            out.add(name)
    return frozenset(out)


def found(text: str) -> frozenset[str]:
    """The names of the cues that occur in ``text``."""
    return found_in(folded(text))


def shouting(text: str) -> bool:
    """Most letters of a message of some length are capitals."""
    letters = [c for c in text if c.isalpha()]
    if len(letters) < _SHOUT_MIN_LETTERS:
        return False
    return sum(c.isupper() for c in letters) >= _SHOUT_SHARE * len(letters)


_TOPICS: Final = (("general_topic", "general"), ("billing_topic", "billing"),
                  ("technical_topic", "technical"), ("retention_topic", "retention"),
                  ("sales_topic", "sales"))


def topic_team(cues: frozenset[str], *, asked_for_person: bool = False) -> str | None:
    """The team of the underlying topic of a complaint or a request for a person, when the
    cues make it clear: general (staff, waiting, delivery, emails, the bot) first, then
    billing, technical, retention, sales; None when no topic shows. For a request for a
    person (``asked_for_person``) general comes last: the words of the request itself (an
    agent, a call, the phone) are no topic, the charge or the fault it is about is; and
    retention first: a person asked for about ending a service is for the retention team
    whatever the service (the broadband, the card)."""
    order = ((_TOPICS[3], _TOPICS[1], _TOPICS[2], _TOPICS[4], _TOPICS[0]) if asked_for_person
             else _TOPICS)
    for cue, team in order:
        if cue in cues:
            return team
    return None


def account_team(cues: frozenset[str]) -> str:
    """The team of an account question: technical for login and security, billing for the
    payment method or billing contact on file, else general."""
    if "account_security" in cues or "security" in cues:
        return "technical"
    if "account_payment" in cues:
        return "billing"
    return "general"
