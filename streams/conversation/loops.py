"""Bot loops: whether a bot answer repeats the previous one or strays from the customer's
topic after the customer said the bot did not help (LABELS.md, ``bot_loop``: "the bot
repeats the same or an irrelevant answer after the customer said it did not help").

An answer is off-topic when it shares no content word with what the customer recently wrote
and none with the bot's previous answer: a follow-up on the same subject
("reinstall the app" after "the app shows nothing") shares a word, a canned answer about
something else ("you can change your password under Settings" to a question about an SAP
integration) shares none. Content words are the accent-folded words of three letters or
more ("app" counts) that are no function word of the five languages; two meet when they
share their first five letters, so inflections meet ("transferencia", "transferir"), or when
one is inside the other, so German compounds meet their parts ("Verfolgung",
"Sendungsverfolgung").

An answer repeats the previous one (``echoes``) when most content words of the shorter of
the two meet a word of the other: a bot that rephrases or extends its answer ("update your
payment details under Settings > Billing", then "to update your payment details, go to
Settings > Billing and select 'Edit card'") repeats itself as surely as one that says it
again word for word, and a word-set Jaccard index misses the first. A rephrase in other
words ("reconnect the thermostat by unplugging it and holding reset", then "the connection
returns when the thermostat is unplugged, plugged back and reset") shares too few whole
words; it repeats too when it shares at least half as many and the cosine of the two
answers' hashed n-grams, as the intent model reads them (``ngram_cosine``), reaches
``EscalationPolicy.bot_echo_cosine``. A follow-up that adds a step to the previous answer
stays below it.

The customer says an answer did not help either in so many words (the ``not_helped`` cue) or
by pushing back on it (``pushback``): a reply that denies or corrects ("that's not it, it's
the photo upload", "no, I want to cancel"), or says it was already done ("the return is
already done"). Pushback alone escalates nothing: it makes the bot's next answer count when
that answer repeats the previous one, and it counts towards "said twice that it did not
help" once the customer also says so in words. An answer about another subject counts only
after the words (``strays``): a follow-up action that shares no word with the subject
("I have sent it again from another address" after "it is not in spam") is no loop. A
pushback the learnt "not helped" signal reads so (``streams.text.unhelped``, at least
``unhelped_level``), in a reply of at least ``MIN_ANSWER_WORDS`` content words, stands for the
words here (``unhelped_read``) but never counts as saying it.

The customer's topic and the previous answer are read from the conversation's recent
messages (``state.RECENT_MESSAGES``, already kept for the human who takes over), and only when
a bot answers after the customer said or showed that it did not help: the record keeps
nothing more, and other answers cost nothing.

Invariants: pure; an answer or topic without content words is never off-topic (nothing to
compare); an answer of fewer than ``MIN_ANSWER_WORDS`` content words, or a question, never
strays, and never echoes but word for word (an apology, "let me check", "anything else?"
may recur).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from typing import Final

import numpy as np

from streams.conversation.effects import Message
from streams.text.cues import folded
from streams.text.intent import INTENT_HASHING

STEM: Final = 5
MIN_ANSWER_WORDS: Final = 3
#: share of the shorter answer's content words met in the other that makes a repeat
ECHO_SHARE: Final = 0.6
#: an n-gram cosine above 1: the echo is read on content words only
COSINE_OFF: Final = 2.0
#: the share of ``ECHO_SHARE`` from which the n-grams are read at all
NGRAM_FROM_SHARE: Final = 0.5
_WORD: Final = re.compile(r"[a-z0-9]{3,}")
#: function words of three letters or more (folded) in en, es, fr, de, pt, and courtesies
_STOP_WORDS: Final = """
    the and for you are but not can was has had how why who its our out get got any all one
    too now yes don isn didn won let may off own use via
    que los las del por una uno con sus mis tus muy mas hay ese esa eso son fue era les nos
    ver dar
    des une est pas qui sur par vos nos mes ses ont aux ete ces moi lui oui non
    der die das den dem und ein mit ist sie ich wir ihr auf aus bei von vor uns wie bis hat
    nun
    com dos das nas seu sua meu sim nao tem foi ela ele
    about also been below could does doesn dont from have here into just like more most much
    need only over please really same should some still than thank thanks that their them
    then there these they this those very want were what when where which while will with
    would your yours sorry hello okay
    ahora algo como cuando desde donde esta estas este esto estos gracias hola luego mucho
    muchas nada nuestra nuestras nuestro nuestros para pero porque puede puedes puedo sobre
    solo tambien tengo tiene todo todos usted ustedes vale favor hace hacer
    aussi avec avez avoir bien bonjour cela cette comme dans elle etre fait leur mais merci
    notre nous peut pouvez plus pour quand sont tout tous tres votre vous faire
    aber alle auch bitte dann dass danke diese dieser eine einem einen einer guten habe
    haben hallo ihnen ihre ihrem ihren ihrer kann konnen mein meine mehr nach nicht noch
    oder schon sich sind unter uber unsere wenn werden wird wieder zum zur
    agora ainda aqui como essa esse esta este isso isto mais muito obrigado obrigada onde
    para pode porque quando sobre tambem tenho voce voces fazer
"""
_STOP: Final = frozenset(_STOP_WORDS.split())


#: words that deny, refuse or say "already" in a reply, per language (folded); a negation
#: that ends a word ("n't") or starts one (French "n'est") is matched apart. Per language
#: because a word of one is another's "yes" (German "ja"); not Spanish "ya" nor Portuguese
#: "já", which as often mean "now" ("ya funciona": it works now)
_PUSHBACK_WORDS: Final = {
    "en": "no not never nothing nope none already wrong",
    "es": "no nunca nada tampoco equivocado equivocada",
    "fr": "ne pas non rien jamais deja aucun aucune",
    "de": "nicht nichts kein keine keinen keiner nein nie schon bereits falsch",
    "pt": "nao nada nunca nem errado errada",
}
_PUSHBACK: Final = {lang: frozenset(ws.split()) for lang, ws in _PUSHBACK_WORDS.items()}
_PUSHBACK_ANY: Final = frozenset().union(*_PUSHBACK.values())
_REPLY_WORD: Final = re.compile(r"[a-z]+")


def words(text: str) -> list[str]:
    """The distinct content words of ``text`` (folded), in order of appearance."""
    return [w for w in dict.fromkeys(_WORD.findall(folded(text))) if w not in _STOP]


def _meet(a: str, b: str) -> bool:
    """Two content words on one subject: the same first ``STEM`` letters, or one (of
    ``STEM`` letters or more) inside the other, as in German compounds ("Verfolgung",
    "Sendungsverfolgung")."""
    if a[:STEM] == b[:STEM]:
        return True
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    return len(short) >= STEM and short in long


def pushback(text: str, language: str = "", found: frozenset[str] = frozenset()) -> bool:
    """The customer's reply says the bot's answer missed: the ``not_helped`` cue among its
    ``found`` cues, or a word of ``language`` that denies, refuses or says it was already
    done (the words of every language when ``language`` is unknown)."""
    if "not_helped" in found:
        return True
    low = folded(text)
    if "n't " in low or (language in ("fr", "") and " n'" in low):
        return True
    vocabulary = _PUSHBACK.get(language, _PUSHBACK_ANY)
    return any(w in vocabulary for w in _REPLY_WORD.findall(low))


def echo_share(answer: str, previous: str) -> float:
    """The share of the content words of the shorter of ``answer`` and ``previous`` that
    meet a word of the other (inflections and compounds meet, as in ``off_topic``); 0 when
    either has fewer than ``MIN_ANSWER_WORDS`` content words, 1 when both have the same
    ones (a short answer repeats only word for word)."""
    said, before = words(answer), words(previous)
    if min(len(said), len(before)) < MIN_ANSWER_WORDS:
        return 1.0 if said and said == before else 0.0
    short, long = (said, before) if len(said) <= len(before) else (before, said)
    return len(shared(short, long)) / len(short)


def shared(these: Sequence[str], other: Sequence[str]) -> list[str]:
    """The content words of ``these`` that meet a word of ``other``."""
    return [a for a in these if any(_meet(a, b) for b in other)]


def ngram_cosine(answer: str, previous: str) -> float:
    """The cosine between the hashed n-grams of two texts as the intent model reads them
    (``INTENT_HASHING``: words, word pairs and character n-grams of 3 to 5 letters within
    words): a rephrase that keeps the stems but not the words ("Starten Sie die Steuerung
    neu" and "ein Neustart") still shares many of its n-grams; 0 when either has none."""
    # every group but the last, the bias feature every text has
    groups = INTENT_HASHING.feature_groups([answer, previous])[:-1]
    buckets = np.concatenate([b for b, _ in groups])
    owner = np.concatenate([t for _, t in groups])
    one, two = Counter(buckets[owner == 0].tolist()), Counter(buckets[owner == 1].tolist())
    norms = math.sqrt(sum(c * c for c in one.values()) * sum(c * c for c in two.values()))
    if not norms:
        return 0.0
    return sum(c * two[k] for k, c in one.items() if k in two) / norms


def echoes(answer: str, previous: str, share: float = ECHO_SHARE,
           cosine: float = COSINE_OFF) -> bool:
    """The bot's ``answer`` repeats its ``previous`` one, verbatim, rephrased or extended: at
    least ``share`` of the content words of the shorter of the two meet a word of the
    other (``echo_share``), or at least half of that share does and their n-grams meet at
    least ``cosine`` (``ngram_cosine``; above 1: never). A question never echoes; an
    answer of fewer than ``MIN_ANSWER_WORDS`` content words only when it has the same
    content words as the previous one."""
    if answer.rstrip().endswith("?"):
        return False
    met = echo_share(answer, previous)
    if met >= share:
        return True
    # a rephrase keeps some of the words; the n-grams (about 0.15 ms) are read only then
    return (cosine <= 1.0 and met >= NGRAM_FROM_SHARE * share
            and ngram_cosine(answer, previous) >= cosine)


def previous_answer(recent: Sequence[Message]) -> str:
    """The text of the bot's last answer among ``recent`` messages ("" when none)."""
    return next((m["text"] for m in reversed(recent) if m["role"] == "bot"), "")


def strays(answer: str, recent: Sequence[Message]) -> bool:
    """The bot's ``answer`` shares no subject with the customer's ``recent`` messages nor
    with the bot's previous answer among them (the messages before the answer). A question
    (the bot asks for details) or an answer of fewer than ``MIN_ANSWER_WORDS`` content words
    (an apology, "let me check") says nothing about another subject: never a stray."""
    said = words(answer)
    if len(said) < MIN_ANSWER_WORDS or answer.rstrip().endswith("?"):
        return False
    topic = [w for m in recent if m["role"] == "customer" for w in words(m["text"])]
    return off_topic(said, topic, words(previous_answer(recent)))


def off_topic(answer: list[str], topic: list[str], previous: list[str]) -> bool:
    """A bot answer (its ``words``) that shares no subject with the customer's ``topic``
    nor with the bot's ``previous`` answer."""
    if not answer or not topic:
        return False
    return not any(_meet(a, b) for a in answer for b in (*topic, *previous))
