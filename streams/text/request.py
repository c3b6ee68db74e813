"""The request sentences of a customer message: the sentences that ask for something (a
question, or a request marker such as "could you", "I would like", "je souhaiterais",
"ich möchte", "gostaria", in en, es, fr, de and pt).

Long, formal and rambling messages tell a story before they ask: "the app got slow after
the update ... is there a fix?", "Dear Sir or Madam, ... please accept this as notice that I
do not wish to renew". The label guide (``LABELS.md``) gives such a message the intent of its
task; complaint only when expressing dissatisfaction is the main purpose. The intent model
reads the story's framing as complaint; ``IntentModel.predict_many`` reads the request
sentences again when it does.

Invariants: pure; a message of one sentence, or whose every sentence asks, has no separate
request part (None): the whole message already is it.
"""

from __future__ import annotations

import re
from typing import Final

from streams.text.cues import folded

#: request markers, folded (lower case, accents removed)
MARKERS: Final = (
    "please", "could you", "can you", "would you", "i would like", "i'd like", "i want",
    "i need", "i would ask", "kindly", "i would be grateful", "how do i", "how can i",
    "is there any way", "is it possible",
    "por favor", "podria", "podrian", "podeis", "puede", "pueden", "quisiera", "quiero",
    "me gustaria", "solicito", "necesito", "como puedo", "agradeceria", "es posible",
    "pourriez", "pouvez", "je souhaite", "je souhaiterais", "je voudrais", "je veux",
    "merci de", "je vous saurais gre", "je demande", "comment", "veuillez", "j'aimerais",
    "est-il possible", "est-ce possible",
    "bitte", "konnten sie", "konnen sie", "ich mochte", "ich hatte gern", "ich will",
    "ich brauche", "wie kann ich", "ich bitte", "ware es moglich",
    "poderia", "podem", "pode ", "gostaria", "quero", "preciso", "agradeco que",
    "como faco", "como posso", "seria possivel")
_SENTENCE_END: Final = re.compile(r"(?<=[.!?;])\s+|\n+")
_MARKER: Final = re.compile(r"(?<![a-z])(?:" + "|".join(re.escape(m) for m in MARKERS) + ")")


def request_part(text: str) -> str | None:
    """The sentences of ``text`` that ask for something, joined; None when the message has
    one sentence, none that asks, or asks in every sentence."""
    sentences = [s for s in _SENTENCE_END.split(text) if s.strip()]
    if len(sentences) < 2:
        return None
    asking = [s for s in sentences if s.rstrip().endswith("?") or _MARKER.search(folded(s))]
    if not asking or len(asking) == len(sentences):
        return None
    return " ".join(asking)
