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

The customer's topic is read from the conversation's recent messages
(``state.RECENT_MESSAGES``, already kept for the human who takes over), and only when a bot
answers after the customer said it did not help: the record keeps nothing more, and other
answers cost nothing.

Invariants: pure; an answer or topic without content words is never off-topic (nothing to
compare).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

from streams.conversation.effects import Message
from streams.text.cues import folded

STEM: Final = 5
MIN_ANSWER_WORDS: Final = 3
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


def strays(answer: str, recent: Sequence[Message]) -> bool:
    """The bot's ``answer`` shares no subject with the customer's ``recent`` messages nor
    with the bot's previous answer among them (the messages before the answer). A question
    (the bot asks for details) or an answer of fewer than ``MIN_ANSWER_WORDS`` content words
    (an apology, "let me check") says nothing about another subject: never a stray."""
    said = words(answer)
    if len(said) < MIN_ANSWER_WORDS or answer.rstrip().endswith("?"):
        return False
    topic = [w for m in recent if m["role"] == "customer" for w in words(m["text"])]
    previous = next((m["text"] for m in reversed(recent) if m["role"] == "bot"), "")
    return off_topic(said, topic, words(previous))


def off_topic(answer: list[str], topic: list[str], previous: list[str]) -> bool:
    """A bot answer (its ``words``) that shares no subject with the customer's ``topic``
    nor with the bot's ``previous`` answer."""
    if not answer or not topic:
        return False
    return not any(_meet(a, b) for a in answer for b in (*topic, *previous))
