"""Mood of a customer message in Spanish, French, German and Portuguese: a valence score in
[-1, 1] on VADER's scale, so that the sentiment rules (a worsening trajectory over a
conversation, a visibly upset cancellation or refund) hold in every language, not only in
English, where VADER reads "no" or "die" of other languages as negative words.

How: a lexicon of word stems per language with a valence in [-4, 4] (VADER's range), matched
at word starts of the lower-cased, accent-folded text (``streams.text.cues.folded``); a
negation word up to three words before a stem, in its clause, flips and damps its valence (VADER's factor
-0.74); an intensifier just before it adds VADER's booster (0.293); "!" adds emphasis (up to
three); a message mostly in capitals is louder. The sum is normalised as VADER normalises it
(x / sqrt(x² + 15)). English keeps VADER's own compound (``streams.text.sentiment``).

Invariants: pure and deterministic; a message with no lexicon word scores 0.0; the score of
a message depends only on its text and language; an unknown language scores 0.0. The stems are
general sentiment words (bad, slow, angry, disappointed, thanks, great), not the escalation
cues of ``streams.text.cues``: the rules read the trajectory of this score over a
conversation, not which words were used.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Final

from streams.text.cues import folded, shouting

ALPHA: Final = 15.0
NEGATION_SCALAR: Final = -0.74
BOOSTER: Final = 0.293
EXCLAMATION: Final = 0.292
SHOUT_BOOST: Final = 0.733
LANGUAGES: Final = ("es", "fr", "de", "pt")

#: stem -> valence, per language (folded: lower case, no accents)
_LEXICON: Final[dict[str, dict[str, float]]] = {
    "es": {
        "malo": -2.2, "mala": -2.2, "mal ": -1.8, "peor": -2.4, "pesim": -2.8, "horrib": -2.8,
        "terribl": -2.8, "fatal": -2.5, "desastr": -2.8, "vergonz": -2.6, "verguenza": -2.6,
        "indignant": -2.8, "inaceptabl": -2.4, "increibl que": -1.5, "harto": -2.6,
        "harta": -2.6, "cansad": -1.6, "enfadad": -2.5, "enojad": -2.5, "furios": -3.0,
        "molest": -1.8, "decepcion": -2.2, "frustra": -2.3, "lament": -1.2, "triste": -1.8,
        "problema": -1.0, "fallo": -1.2, "falla": -1.2, "error": -1.0, "roto": -1.6, "rota": -1.6,
        "lento": -1.2, "lenta": -1.2, "inutil": -2.5, "nunca": -0.8, "nadie": -1.0,
        "ridicul": -2.2, "absurd": -2.0, "estafa": -3.0, "ladron": -3.0, "basura": -3.0,
        "porqueria": -3.0, "mierda": -3.2, "timo": -2.8, "abuso": -2.6, "queja": -1.4,
        "reclam": -1.0, "preocupad": -1.5, "urgent": -0.8, "grave": -1.8, "gravisim": -2.6,
        "espera": -0.4, "todavia no": -1.2, "aun no": -1.2, "sigue sin": -1.5,
        # despair and exhaustion: a worsening mood without an angry word
        "desesper": -2.8, "agotad": -2.2, "no se que mas": -1.0,
        "no se que hacer": -1.0, "nadie me": -1.4, "ignorad": -2.0,
        "me ignoran": -2.2, "no puedo mas": -2.8, "hasta las narices": -2.8,
        "gracias": 1.8, "genial": 2.4, "perfecto": 2.6, "perfecta": 2.6, "excelent": 3.0,
        "estupend": 2.6, "bien": 1.2, "buen": 1.6, "buena": 1.6, "content": 2.0, "feliz": 2.4,
        "encant": 2.6, "resuelto": 1.8, "solucionad": 1.8, "amable": 2.0, "rapido": 1.2,
        "ayuda": 0.6, "funciona": 1.0,
    },
    "fr": {
        "mauvais": -2.2, "pire": -2.4, "nul ": -2.6, "nulle": -2.6, "horribl": -2.8,
        "terribl": -2.8, "catastroph": -2.8, "desastr": -2.8, "honte": -2.6, "honteu": -2.8,
        "inadmissibl": -2.6, "inacceptabl": -2.4, "scandal": -2.8, "marre": -2.6,
        "ras le bol": -2.8, "fatigu": -1.4, "enerv": -2.2, "agace": -1.8, "agacant": -1.8,
        "furieu": -3.0, "en colere": -2.8, "decu": -2.2, "decevant": -2.2, "deception": -2.2,
        "frustr": -2.3, "lamentabl": -2.6, "triste": -1.8, "probleme": -1.0, "panne": -1.4,
        "erreur": -1.0, "casse": -1.6, "lent": -1.2, "inutil": -2.5, "jamais": -0.8,
        "personne ne": -1.2, "ridicul": -2.2, "absurd": -2.0, "arnaqu": -3.0, "voleur": -3.0,
        "escroc": -3.0, "merde": -3.2, "pourri": -2.8, "minable": -2.8, "plainte": -1.4,
        "inquiet": -1.5, "grave": -1.6, "toujours pas": -1.5, "n'importe quoi": -2.2,
        "a bout": -2.8, "excede": -2.8, "exaspere": -2.8, "desespere": -2.8, "epuise": -2.2,
        "je ne sais plus": -1.0, "toujours rien": -1.5, "j'en ai assez": -2.6,
        "on m'ignore": -2.2, "pas de nouvelles": -1.2, "bloque": -1.0,
        "merci": 1.8, "genial": 2.4, "parfait": 2.6, "excellent": 3.0, "super ": 2.2,
        "bien": 1.2, "bon ": 1.4, "bonne": 1.4, "content": 2.0, "ravi": 2.6, "heureu": 2.4,
        "resolu": 1.8, "regle": 1.4, "aimabl": 2.0, "rapide": 1.2, "fonctionne": 1.0,
        "top": 2.0,
    },
    "de": {
        "schlecht": -2.2, "schlimm": -2.4, "furchtbar": -2.8, "schrecklich": -2.8,
        "katastroph": -2.8, "desastro": -2.8, "unmoglich": -2.4, "unverschamt": -2.8,
        "frechheit": -2.8, "inakzeptabel": -2.4, "skandal": -2.8, "nervt": -2.0, "nervig": -2.0,
        "genervt": -2.2, "sauer": -2.2, "wutend": -3.0, "verargert": -2.4, "argerlich": -2.0,
        "enttausch": -2.2, "frustr": -2.3, "traurig": -1.8, "problem": -1.0, "fehler": -1.0,
        "kaputt": -1.8, "defekt": -1.6, "langsam": -1.2, "nutzlos": -2.5, "nie ": -0.8,
        "niemand": -1.0, "lacherlich": -2.2, "absurd": -2.0, "abzocke": -3.0, "betrug": -3.0,
        "mist": -2.4, "scheis": -3.2, "schrott": -3.0, "miserabel": -2.8, "beschwerde": -1.4,
        "besorgt": -1.5, "dringend": -0.8, "immer noch nicht": -1.5, "noch immer nicht": -1.5,
        "reicht": -1.2, "zumutung": -2.8, "peinlich": -2.2, "unzufrieden": -2.2,
        "verzweifel": -2.8, "latein am ende": -2.6, "am ende meiner": -2.6, "erschopft": -2.2,
        "weiss nicht mehr": -1.0,
        "ignoriert": -2.0, "immer noch": -0.8,
        "danke": 1.8, "super ": 2.2, "toll": 2.2, "perfekt": 2.6, "ausgezeichnet": 3.0,
        "prima": 2.2, "gut ": 1.4, "gute": 1.4, "zufrieden": 2.0, "froh": 2.2, "freue": 2.2,
        "gelost": 1.8, "klappt": 1.2, "funktioniert": 1.0, "freundlich": 2.0, "schnell": 1.2,
        "hilfreich": 1.8,
    },
    "pt": {
        "ruim": -2.2, "pessim": -2.8, "pior": -2.4, "horrivel": -2.8, "terrivel": -2.8,
        "desastr": -2.8, "vergonha": -2.6, "absurd": -2.2, "inaceitavel": -2.4, "ridicul": -2.2,
        "cansad": -1.6, "cansei": -2.4, "irritad": -2.4, "bravo": -2.2, "brava": -2.2,
        "furios": -3.0, "chatead": -2.0, "decepcion": -2.2, "frustr": -2.3, "triste": -1.8,
        "problema": -1.0, "erro": -1.0, "falha": -1.2, "quebrad": -1.6, "lento": -1.2,
        "lenta": -1.2, "inutil": -2.5, "nunca": -0.8, "ninguem": -1.0, "golpe": -3.0,
        "ladr": -3.0, "roubo": -3.0, "lixo": -3.0, "porcaria": -3.0, "merda": -3.2,
        "descaso": -2.6, "desrespeit": -2.6, "reclama": -1.2, "preocupad": -1.5, "grave": -1.8,
        "ainda nao": -1.2, "continua sem": -1.5, "palhacada": -2.8, "revoltad": -2.8,
        "desesperad": -2.8, "farto": -2.6, "farta": -2.6, "esgotad": -2.2, "nao sei o que": -1.0,
        "nao sei mais": -1.0, "ignorad": -2.0, "me ignoram": -2.2,
        "desrespeitad": -2.6, "aborrecid": -2.0, "chato": -1.0,
        "obrigad": 1.8, "otimo": 2.6, "otima": 2.6, "perfeito": 2.6, "excelente": 3.0,
        "maravilh": 2.8, "bom ": 1.4, "boa ": 1.4, "bem ": 1.2, "satisfeit": 2.0, "feliz": 2.4,
        "adorei": 2.6, "resolvid": 1.8, "gentil": 2.0, "rapido": 1.2, "funciona": 1.0,
        "ajudou": 1.6,
    },
}
_NEGATIONS: Final[dict[str, frozenset[str]]] = {
    "es": frozenset(("no", "ni", "sin", "tampoco")),
    "fr": frozenset(("pas", "ne", "n'", "plus", "sans", "aucun", "aucune")),
    "de": frozenset(("nicht", "kein", "keine", "keinen", "keiner", "ohne")),
    "pt": frozenset(("nao", "nem", "sem", "nenhum", "nenhuma")),
}
_BOOSTERS: Final[dict[str, frozenset[str]]] = {
    "es": frozenset(("muy", "super", "totalmente", "realmente", "tan", "bastante", "demasiado")),
    "fr": frozenset(("tres", "vraiment", "trop", "tellement", "completement", "si")),
    "de": frozenset(("sehr", "total", "wirklich", "echt", "so", "extrem", "absolut", "vollig")),
    "pt": frozenset(("muito", "super", "totalmente", "realmente", "tao", "demais", "bem")),
}


def _pattern(stems: dict[str, float]) -> re.Pattern[str]:
    """Any stem at a word start; a stem written with a final space must end a word."""
    parts = sorted(stems, key=len, reverse=True)
    alternatives = "|".join(re.escape(s.strip()) + (r"\b" if s.endswith(" ") else "")
                            for s in parts)
    return re.compile(r"(?<![a-z0-9])(?:" + alternatives + ")")


_PATTERNS: Final = {lang: _pattern(stems) for lang, stems in _LEXICON.items()}
_VALENCE: Final = {lang: {s.strip(): v for s, v in stems.items()}
                   for lang, stems in _LEXICON.items()}
_WORD: Final = re.compile(r"[a-z0-9']+")
_CLAUSE: Final = re.compile(r"[,.;:!?]")


def _words_before(text: str, end: int, count: int = 3) -> list[str]:
    """Up to ``count`` words before ``end`` within its clause (a negation or an intensifier
    does not reach across a comma or a full stop: "no, gracias" thanks)."""
    window = _CLAUSE.split(text[max(0, end - 40):end])[-1]
    words = _WORD.findall(window)
    # "n'" of French negation sticks to its verb ("n'aide"): keep it as a word of its own
    out: list[str] = []
    for w in words[-count:]:
        out.extend(("n'", w[2:]) if w.startswith("n'") else (w,))
    return out[-count:]


def score(text: str, language: str) -> float:
    """Valence of ``text`` in ``language`` (es, fr, de, pt) in [-1, 1]; 0.0 without any
    sentiment word, or for another language."""
    pattern = _PATTERNS.get(language)
    if pattern is None or not text:
        return 0.0
    low = folded(text)
    valences = _VALENCE[language]
    negations, boosters = _NEGATIONS[language], _BOOSTERS[language]
    total = 0.0
    for match in pattern.finditer(low):
        valence = valences[match.group(0)]
        before = _words_before(low, match.start())
        if before and before[-1] in boosters:
            valence += BOOSTER if valence > 0 else -BOOSTER
        if not negations.isdisjoint(before):
            valence *= NEGATION_SCALAR
        total += valence
    if total == 0.0:
        return 0.0
    marks = min(text.count("!"), 3) * EXCLAMATION
    total += marks if total > 0 else -marks
    if shouting(text):
        total += SHOUT_BOOST if total > 0 else -SHOUT_BOOST
    return round(max(-1.0, min(1.0, total / math.sqrt(total * total + ALPHA))), 4)


def compounds(texts: Sequence[str], languages: Sequence[str],
              english: Sequence[float]) -> list[float]:
    """The compound of every text: VADER's (``english``) for English and any language this
    module does not cover, this module's score for es, fr, de and pt."""
    return [score(t, lang) if lang in _PATTERNS else e
            for t, lang, e in zip(texts, languages, english, strict=True)]


__all__ = ["LANGUAGES", "compounds", "score"]
