"""Emotion signals of a chat message that sentiment lexicons miss.

"let me speak to a manager NOW" is neutral to VADER, yet it is angry, urgent and asks for a
human. :func:`detect` scores five emotions in [0, 1] from cue phrases in English, Spanish,
French, German and Portuguese (profanity, insults, repeated contact, waiting, broken things,
not understanding, deadlines, thanks), from the shape of the text (ALL-CAPS words, "!!",
"??") and from the message's VADER compound score, and says whether the customer asks for a
human. All patterns are compiled once; one pass of one combined pattern finds every cue.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final, NamedTuple


class Emotions(NamedTuple):
    frustration: float
    anger: float
    confusion: float
    urgency: float
    satisfaction: float
    human_request: bool


NONE: Final = Emotions(0.0, 0.0, 0.0, 0.0, 0.0, False)

# (frustration, anger, confusion, urgency, satisfaction) added by one cue of each kind.
_Weights = tuple[float, float, float, float, float]

# Cue kinds, in matching order: at one position the first kind that matches wins, so phrases
# that contain a weaker cue ("not helpful", "still not fixed") come before it.
_CUES: Final[tuple[tuple[str, _Weights, tuple[str, ...]], ...]] = (
    ("sarcasm", (0.3, 0.5, 0.0, 0.0, 0.0), (
        r"thanks? (?:you )?for nothing", r"gracias por nada", r"merci pour rien",
        r"danke für nichts", r"obrigad[oa] por nada",
    )),
    ("negated_positive", (0.45, 0.1, 0.0, 0.0, 0.0), (
        r"(?:not|never|isn't|wasn't|hasn't been|is not) (?:very |really |at all )?"
        r"(?:helpful|great|good|working|fixed|solved|resolved|happy|satisfied|ok|okay|acceptable)",
        r"no (?:help|use)", r"no (?:me )?(?:ayuda|sirve)", r"no (?:está|esta) (?:resuelto|solucionado)",
        r"ne m'aide pas", r"(?:n'est )?pas (?:résolu|réglé|utile)",
        r"hilft (?:mir )?(?:überhaupt |gar )?nicht", r"nicht (?:gelöst|hilfreich)",
        r"não (?:me )?ajuda", r"não (?:foi )?resolvid[oa]", r"não serve",
    )),
    ("profanity", (0.2, 0.65, 0.0, 0.0, 0.0), (
        r"f+u+c+k\w*", r"wtf", r"shit\w*", r"bullshit", r"damn\w*", r"crap\w*", r"bloody hell",
        r"piss(?:ed)?(?: off)?", r"mierda", r"joder", r"jodid[oa]", r"cabr[oó]n\w*", r"carajo",
        r"hostia", r"merde", r"putain", r"bordel", r"connerie\w*", r"fait chier",
        r"schei(?:ß|ss)\w*", r"verdammt\w*", r"mist", r"kacke", r"porra", r"merda", r"caralho",
        r"droga",
    )),
    ("insult", (0.25, 0.5, 0.0, 0.0, 0.0), (
        r"useless", r"stupid", r"idiot\w*", r"incompetent\w*", r"pathetic", r"clowns?",
        r"scam\w*", r"rip[- ]?off", r"worst", r"a joke", r"garbage", r"trash", r"rubbish",
        r"in[uú]til(?:es)?", r"est[uú]pid[oa]s?", r"incompetentes?", r"una estafa", r"estafador\w*",
        r"no sirve para nada", r"in[uú]tile?s?", r"stupides?", r"nuls?", r"une arnaque",
        r"escrocs?", r"incompétents?", r"nutzlos\w*", r"dumm\w*", r"inkompetent\w*",
        r"betrug\w*", r"abzocke", r"unfähig\w*", r"idiota\w*", r"golpistas?",
        r"não serve para nada", r"pior\w*", r"el peor", r"la peor", r"le pire", r"la pire",
        r"schlechteste\w*",
    )),
    ("outrage", (0.4, 0.45, 0.0, 0.0, 0.0), (
        r"ridiculous", r"unacceptable", r"outrageous", r"absurd", r"disgrace\w*", r"shameful",
        r"disgusting", r"how dare", r"rid[ií]cul[oa]", r"inaceptable", r"una verg[uü]enza",
        r"indignante", r"inadmissible", r"inacceptable", r"scandaleu[xs]e?", r"honteu[xs]e?",
        r"c'est une honte", r"lächerlich", r"inakzeptabel", r"unverschämt\w*", r"frechheit",
        r"eine schande", r"unmöglich", r"inaceit[aá]vel", r"absurdo", r"uma vergonha",
        r"palhaçada", r"sacanagem",
    )),
    ("angry", (0.2, 0.6, 0.0, 0.0, 0.0), (
        r"angry", r"furious", r"livid", r"outraged", r"mad at", r"i hate", r"hate (?:this|you)",
        r"furios[oa]", r"enfadad[oa]", r"enojad[oa]", r"cabread[oa]", r"indignad[oa]",
        r"furieu(?:x|se)", r"en colère", r"énervée?", r"wütend", r"sauer", r"stinksauer",
        r"verärgert", r"irritad[oa]", r"revoltad[oa]", r"puto", r"puta",
    )),
    ("threat", (0.3, 0.35, 0.0, 0.2, 0.0), (
        r"cancel(?:l?ing)? everything", r"(?:leave|leaving|write|writing) a (?:bad )?review",
        r"lawyer", r"chargeback", r"report you", r"cancelo todo", r"pongo una reseña",
        r"abogado", r"je résilie", r"avocat", r"kündige ich", r"anwalt", r"cancelo tudo",
        r"reclamar publicamente", r"advogado", r"procon",
    )),
    ("still", (0.55, 0.1, 0.0, 0.1, 0.0), (
        r"still (?:not|no|nothing|haven't|hasn't|isn't|doesn't|didn't|won't|can't|waiting)"
        r"(?: \w+)?",
        r"todav[ií]a no(?: \w+)?", r"sigue sin(?: \w+)?", r"sigo sin(?: \w+)?",
        r"toujours pas(?: \w+)?", r"toujours rien", r"immer noch (?:nicht|kein\w*)(?: \w+)?",
        r"noch immer (?:nicht|kein\w*)(?: \w+)?", r"ainda não(?: \w+)?", r"continua sem(?: \w+)?",
    )),
    ("repeat", (0.5, 0.15, 0.0, 0.0, 0.0), (
        r"(?:second|third|fourth|fifth|2nd|3rd|4th|5th|\d+th) time", r"twice", r"how many times",
        r"already (?:told|explained|asked|sent|said|called|tried)", r"every (?:single )?time",
        r"keeps? (?:happening|failing|sending|asking|crashing|getting)", r"nobody", r"no one",
        r"(?:segunda|tercera|cuarta) vez", r"dos veces", r"cu[aá]ntas veces",
        r"ya (?:lo )?(?:he|hab[ií]a) (?:explicado|dicho)", r"nadie",
        r"(?:deuxième|troisième|quatrième) fois", r"deux fois", r"combien de fois",
        r"(?:déjà|deja) (?:expliqué|dit)", r"personne ne",
        r"(?:zweite|dritte|vierte)n? mal", r"zum (?:zweiten|dritten|vierten) mal", r"zweimal",
        r"wie oft", r"schon (?:zweimal |mehrmals )?(?:erklärt|gesagt)", r"niemand",
        r"(?:segunda|terceira|quarta) vez", r"duas vezes", r"quantas vezes",
        r"já (?:expliquei|disse|falei)", r"ninguém",
    )),
    ("again", (0.3, 0.05, 0.0, 0.0, 0.0), (
        r"again", r"otra vez", r"de nuevo", r"encore une fois", r"à nouveau", r"de nouveau",
        r"schon wieder", r"wieder", r"de novo", r"novamente", r"outra vez",
    )),
    ("waiting", (0.45, 0.05, 0.0, 0.25, 0.0), (
        r"(?:been |still |keep )?waiting (?:for|since|on)", r"waited", r"(?:way )?too long",
        r"taking forever", r"no (?:answer|response|reply)",
        r"llevo (?:\w+ )?esperando", r"sigo esperando", r"esperando desde",
        r"(?:tardando|tarda) demasiado", r"sin respuesta", r"j'attends", r"(?:beaucoup )?trop long",
        r"sans réponse", r"warte (?:schon |seit )", r"(?:viel )?zu lange", r"keine antwort",
        r"estou esperando", r"esperando há", r"demorando demais", r"sem resposta",
    )),
    ("broken", (0.4, 0.05, 0.0, 0.05, 0.0), (
        r"(?:doesn't|does not|isn't|is not|won't|will not|didn't|did not|not) work(?:ing)?",
        r"can'?t (?:log ?in|login|sign in|access|open|find|pay)", r"broken", r"keeps crashing",
        r"no funciona", r"no puedo (?:entrar|acceder|iniciar)", r"ne (?:marche|fonctionne) pas",
        r"(?:je )?n'arrive pas à", r"funktioniert (?:immer noch )?nicht", r"geht nicht",
        r"kaputt", r"não funciona", r"não consigo (?:entrar|acessar)",
    )),
    ("frustrated", (0.6, 0.15, 0.0, 0.0, 0.0), (
        r"frustrat(?:ed|ing)", r"annoy(?:ed|ing)", r"fed up", r"sick (?:and tired )?of",
        r"tired of", r"disappointed", r"disappointing", r"seriously\?", r"come on",
        r"frustrad[oa]", r"hart[oa]", r"molest[oa]", r"decepcionad[oa]", r"en serio\?",
        r"frustrée?", r"marre", r"déçue?", r"sérieusement\s?\?", r"agacée?",
        r"frustriert", r"genervt", r"nervt", r"enttäuscht", r"im ernst\?", r"ernsthaft\?",
        r"chatead[oa]", r"cansad[oa] de", r"sério\?",
    )),
    ("confused", (0.1, 0.0, 0.7, 0.0, 0.0), (
        r"i (?:don't|do not|dont|can't|cannot) (?:understand|get it|follow)", r"don't get it",
        r"what (?:do|did) you mean", r"what does (?:that|this|it) mean", r"confus(?:ed|ing)",
        r"(?:makes|make) no sense", r"(?:doesn't|does not|don't) make (?:any )?sense",
        r"i'?m lost", r"unclear", r"no (?:lo )?entiendo", r"no comprendo",
        r"qu[eé] (?:quiere|quieres|quieren) decir", r"qu[eé] significa", r"confundid[oa]",
        r"confus[oa]", r"no tiene sentido", r"(?:je ne )?comprends? pas",
        r"(?:que|qu'est-ce que) (?:voulez-vous|vous voulez|tu veux) dire", r"ça veut dire quoi",
        r"qu'est-ce que (?:ça|cela) veut dire", r"confuse?", r"je suis perdue?",
        r"(?:verstehe|versteh) (?:ich )?(?:das )?nicht", r"was meinen sie",
        r"was (?:heißt|bedeutet) das", r"verwirr(?:t|end)", r"unklar", r"ergibt keinen sinn",
        r"não (?:entendo|entendi|compreendo)", r"como assim", r"o que (?:quer|você quer) dizer",
        r"o que significa", r"não faz sentido",
    )),
    ("how", (0.0, 0.0, 0.35, 0.0, 0.0), (
        r"how (?:do|can|should|would) i", r"how does (?:this|it|that)", r"how to",
        r"where (?:do|can) i (?:find|see|get|change)", r"not sure (?:how|what|where|if|why)",
        r"complicated", r"c[oó]mo (?:puedo|hago|se hace|funciona)", r"d[oó]nde (?:puedo|encuentro)",
        r"complicado", r"comment (?:faire|puis-je|je peux|est-ce que je|ça marche)",
        r"où (?:puis-je|trouver|est-ce que)", r"compliqué",
        r"wie (?:kann ich|mache ich|geht das|funktioniert)", r"wo (?:finde|kann) ich",
        r"kompliziert", r"como (?:faço|posso|funciona)", r"onde (?:encontro|posso)",
    )),
    ("urgent", (0.1, 0.05, 0.0, 0.6, 0.0), (
        r"immediately", r"asap", r"a\.s\.a\.p", r"urgent(?:ly)?", r"emergency", r"right now",
        r"right away", r"as soon as possible", r"without delay", r"inmediatamente",
        r"urgente(?:mente)?", r"urgencia", r"cuanto antes", r"lo antes posible", r"ya mismo",
        r"ahora mismo", r"immédiatement", r"tout de suite", r"urgence", r"au plus vite",
        r"dès que possible", r"sofort", r"dringend", r"umgehend", r"so schnell wie möglich",
        r"schnellstens", r"eilig", r"imediatamente", r"o quanto antes",
        r"o mais rápido possível", r"agora mesmo", r"urgência",
    )),
    ("soon", (0.0, 0.0, 0.0, 0.2, 0.0), (
        r"now", r"today", r"tonight", r"quickly", r"hurry", r"ahora", r"hoy", r"rápido",
        r"maintenant", r"aujourd'hui", r"vite", r"jetzt", r"heute", r"schnell", r"agora",
        r"hoje", r"logo",
    )),
    ("thanks_strong", (0.0, 0.0, 0.0, 0.0, 0.65), (
        r"thank you (?:so|very) much", r"thanks (?:so much|a lot|a million)",
        r"(?:really )?appreciated?", r"(?:that |it )?(?:solved|fixed|sorted) (?:it|that|the problem)",
        r"(?:that |it )?(?:worked|works now|works perfectly)", r"perfect", r"excellent",
        r"awesome", r"amazing", r"wonderful", r"brilliant", r"fantastic", r"solved", r"love it",
        r"muchas gracias", r"mil gracias", r"perfect[oa]", r"genial", r"excelente",
        r"resuelto", r"solucionado", r"ya funciona", r"merci beaucoup", r"parfait",
        r"génial", r"résolu", r"ça marche", r"ça fonctionne", r"vielen dank", r"perfekt",
        r"toll", r"prima", r"klasse", r"gelöst", r"funktioniert jetzt", r"muito obrigad[oa]",
        r"perfeit[oa]", r"ótimo", r"resolvid[oa]", r"funcionou", r"valeu",
    )),
    ("thanks", (0.0, 0.0, 0.0, 0.0, 0.35), (
        r"thanks?", r"thank you", r"thx", r"ty", r"great", r"super", r"nice", r"cool",
        r"helpful", r"glad", r"happy", r"gracias", r"merci", r"danke", r"obrigad[oa]",
        r"muy amable", r"très gentil", r"sehr nett",
    )),
)

_WEIGHTS: Final[dict[str, _Weights]] = {kind: weights for kind, weights, _ in _CUES}

def _clip(value: float) -> float:
    return 0.0 if value < 0.0 else 1.0 if value > 1.0 else value


def detect(text: str, compound: float) -> Emotions:
    """Emotion signals of one message; ``compound`` is its VADER compound score."""
    if not text or text.isspace():
        return NONE
    low = text.lower()
    if "’" in low:
        low = low.replace("’", "'")
    frustration = anger = confusion = urgency = satisfaction = 0.0
    weights = _WEIGHTS
    for match in _CUE_RE.finditer(low):
        kind = match.lastgroup
        if kind is None:
            continue
        f, a, c, u, s = weights[kind]
        frustration += f
        anger += a
        confusion += c
        urgency += u
        satisfaction += s

    human = _HUMAN_RE.search(low) is not None
    if human:
        frustration += 0.3
        anger += 0.2
        urgency += 0.25

    shouted = 0
    for word in _CAPS_RE.findall(text):
        if word in _SHOUTED_DEADLINE:
            urgency += 0.5
            anger += 0.25
            shouted += 1
        elif word not in _ACRONYMS:
            shouted += 1
    if shouted:
        anger += 0.15 * min(shouted, 3)
        frustration += 0.05 * min(shouted, 3)

    upset = frustration + anger
    if "!!" in text:
        if upset > 0.0 or compound < 0.0:
            anger += 0.25
            frustration += 0.1
            urgency += 0.15
        elif compound > 0.0:
            satisfaction += 0.15
    if "??" in text or text.count("?") >= 3:
        confusion += 0.3
        frustration += 0.15

    if compound < 0.0:
        frustration += 0.3 * -compound
        if anger > 0.0:
            anger += 0.2 * -compound
    elif compound > 0.0:
        satisfaction += 0.2 * compound
    if upset >= 0.5:
        satisfaction *= 0.4

    return Emotions(
        _clip(frustration), _clip(anger), _clip(confusion), _clip(urgency), _clip(satisfaction),
        human,
    )


def detect_many(texts: Sequence[str], compounds: Sequence[float]) -> list[Emotions]:
    """:func:`detect` over a batch, in order; ``compounds`` pairs with ``texts``."""
    if len(texts) != len(compounds):
        raise ValueError(f"{len(texts)} texts but {len(compounds)} compound scores")
    return [detect(text, compound) for text, compound in zip(texts, compounds, strict=True)]

