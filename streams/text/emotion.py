"""Emotion signals of a chat message that sentiment lexicons miss.

"let me speak to a manager NOW" is neutral to VADER, yet it is angry, urgent and asks for a
human. :func:`detect` scores five emotions in [0, 1] from cue phrases in English, Spanish,
French, German and Portuguese (profanity, insults, repeated contact, waiting, broken things,
not understanding, deadlines, thanks), from the shape of the text (ALL-CAPS words, "!!",
"??") and from the message's VADER compound score, and says whether the writer asks for a
human (meant for customer messages). Everything is compiled once at import: a message costs
one ``split``, one set lookup per word, a look at the next word where a word starts a cue, and
phrase checks only where that next word continues one. ALL-CAPS words are looked for only in
text with three capitals (or non-ASCII letters) in a row.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Sequence
from itertools import compress, count
from typing import Final, NamedTuple


class Emotions(NamedTuple):
    frustration: float
    anger: float
    confusion: float
    urgency: float
    satisfaction: float
    human_request: bool


NONE: Final = Emotions(0.0, 0.0, 0.0, 0.0, 0.0, False)

# (frustration, anger, confusion, urgency, satisfaction) added by one cue of a kind.
_Weights = tuple[float, float, float, float, float]
_ZERO_W: Final[_Weights] = (0.0, 0.0, 0.0, 0.0, 0.0)

# Cue phrases: words separated by spaces, "{a,b}" for alternatives inside a word ("{,x}" for an
# optional part), "*" for any one word. Kinds are listed by priority: where phrases of several
# kinds start at one word, the earlier kind (then the longer phrase) wins and its words are
# consumed, so "not helpful" is not also "helpful" and "still not fixed" is not "fixed".
_CUES: Final[tuple[tuple[str, _Weights, str], ...]] = (
    ("sarcasm", (0.3, 0.5, 0.0, 0.0, 0.0), """
        thanks for nothing | thank you for nothing | gracias por nada | merci pour rien |
        danke für nichts | obrigad{o,a} por nada"""),
    ("negated_positive", (0.45, 0.1, 0.0, 0.0, 0.0), """
        {not,never,isn't,wasn't} {helpful,great,good,fixed,solved,resolved,happy,satisfied,acceptable} |
        {not,never,isn't,wasn't} {very,really} {helpful,great,good} |
        {not,never,isn't,wasn't} * helpful | no help | no me ayuda | no ayuda | no sirve |
        no está {resuelto,solucionado} | ne m'aide pas | pas {résolu,réglé,utile} |
        hilft mir {nicht,kaum} | hilft mir überhaupt nicht | hilft mir gar nicht | hilft nicht |
        nicht {gelöst,hilfreich} | não me ajuda | não ajuda | não {resolvido,resolvida,resolveu} |
        não serve"""),
    ("profanity", (0.2, 0.65, 0.0, 0.0, 0.0), """
        fuck | fucking | fucked | fucks | fuckin | motherfucker | shit | shitty | bullshit |
        damn | damned | dammit | crap | crappy | {scheiße,scheisse,scheiß,scheiss} |
        verdammt | verdammte | verdammter | connerie{,s} | {cabrón,cabron,cabrones} |
        wtf | bloody hell | piss off | pissed off | pissed | mierda | joder | jodid{o,a} |
        carajo | hostia | merde | putain | bordel | fait chier | mist | kacke | porra | merda |
        caralho"""),
    ("insult", (0.25, 0.5, 0.0, 0.0, 0.0), """
        useless | stupid | pathetic | clown{,s} | rip-off | ripoff | rip off | worst | a joke |
        garbage | trash | rubbish | idiot{,s} | idiotic | incompetent | incompetence |
        scam | scams | scammer{,s} | {inkompetent,inkompetente} | {incompétent,incompétents} |
        {nutzlos,nutzlose} | betrug | betrüger | {unfähig,unfähige} | {inútil,inutil,inútiles} |
        {estúpido,estúpida,estupido} |
        una estafa | no sirve para nada | {inutile,inutiles} | {stupide,stupides} | {nul,nuls,nulle} |
        une arnaque | escroc{,s} | dumm | dumme | abzocke | idiota{,s} | golpista{,s} |
        não serve para nada | {pior,piores} | el peor | la peor | le pire | la pire |
        {schlechteste,schlechtesten,schlechtester}"""),
    ("outrage", (0.4, 0.45, 0.0, 0.0, 0.0), """
        ridiculous | unacceptable | outrageous | absurd | disgrace | disgraceful | shameful |
        disgusting | how dare | {ridículo,ridícula,ridiculo} | inaceptable | una vergüenza |
        indignante | inadmissible | inacceptable | {scandaleux,scandaleuse} |
        {honteux,honteuse} | c'est une honte | lächerlich | inakzeptabel |
        {unverschämt,unverschämtheit} | frechheit | eine schande | unmöglich |
        {inaceitável,inaceitavel} | absurdo | uma vergonha | palhaçada | sacanagem"""),
    ("angry", (0.2, 0.6, 0.0, 0.0, 0.0), """
        angry | furious | livid | outraged | mad at | i hate | hate this | hate you |
        furios{o,a} | enfadad{o,a} | enojad{o,a} | cabread{o,a} | indignad{o,a} |
        {furieux,furieuse} | en colère | {énervé,énervée} | wütend | sauer | stinksauer |
        verärgert | irritad{o,a} | revoltad{o,a}"""),
    ("threat", (0.3, 0.35, 0.0, 0.2, 0.0), """
        {cancel,cancelling,canceling} everything | {leave,leaving,write,writing} a review |
        {leave,leaving,write,writing} a bad review | lawyer | chargeback | report you |
        cancelo todo | pongo una reseña | abogado | je résilie | avocat | kündige ich | anwalt |
        cancelo tudo | reclamar publicamente | advogado | procon"""),
    ("still", (0.55, 0.1, 0.0, 0.1, 0.0), """
        still {not,no,nothing,haven't,hasn't,isn't,doesn't,didn't,won't,can't} {,*} |
        still waiting | {todavía,todavia} no {,*} | {sigue,sigo} sin {,*} | toujours pas {,*} |
        toujours rien | {immer,noch} {noch,immer} {nicht,kein,keine,keinen} {,*} |
        ainda não {,*} | continua sem {,*}"""),
    ("repeat", (0.5, 0.15, 0.0, 0.0, 0.0), """
        {second,third,fourth,fifth,2nd,3rd,4th,5th} time | twice | how many times |
        already {told,explained,asked,sent,said,called,tried} | every time | every single time |
        {keep,keeps} {happening,failing,sending,asking,crashing,getting} | nobody | no one |
        {segunda,tercera,cuarta} vez | dos veces | {cuántas,cuantas} veces |
        ya {he,había} {explicado,dicho} | ya lo {he,había} {explicado,dicho} | nadie |
        {deuxième,troisième,quatrième} fois | deux fois | combien de fois |
        déjà {expliqué,dit} | personne ne | {zweite,dritte,vierte,zweiten,dritten,vierten} mal |
        zweimal | wie oft | schon {erklärt,gesagt} | schon {zweimal,mehrmals} {erklärt,gesagt} |
        niemand | {segunda,terceira,quarta} vez | duas vezes | quantas vezes |
        já {expliquei,disse,falei} | ninguém"""),
    ("again", (0.3, 0.05, 0.0, 0.0, 0.0), """
        again | otra vez | de nuevo | encore une fois | à nouveau | de nouveau | schon wieder |
        wieder | de novo | novamente | outra vez"""),
    ("waiting", (0.45, 0.05, 0.0, 0.25, 0.0), """
        {,been,still,keep} waiting {for,since,on} | waited | too long | way too long |
        taking forever | no {answer,response,reply} | sigo esperando |
        llevo {,dos,tres,varios,muchos} {,días,horas,semanas} esperando |
        esperando desde | {tardando,tarda} demasiado | sin respuesta | j'attends |
        {,beaucoup} trop long | sans réponse | warte {schon,seit} | {,viel} zu lange |
        keine antwort | estou esperando | esperando há | demorando demais | sem resposta"""),
    ("broken", (0.4, 0.05, 0.0, 0.05, 0.0), """
        {doesn't,isn't,won't,didn't,not} {work,working} | {does,is,will,did} not {work,working} |
        {can't,cant,cannot} {login,log,sign,access,open,pay} | broken | keeps crashing |
        no funciona | no puedo {entrar,acceder,iniciar} | ne {marche,fonctionne} pas |
        n'arrive pas | funktioniert nicht | funktioniert immer noch nicht | geht nicht |
        kaputt | não funciona | não consigo {entrar,acessar}"""),
    ("frustrated", (0.6, 0.15, 0.0, 0.0, 0.0), """
        frustrated | frustrating | annoyed | annoying | fed up | sick of | sick and tired |
        tired of | disappointed | disappointing | seriously | come on | frustrad{o,a} |
        hart{o,a} | molest{o,a} | decepcionad{o,a} | en serio | {frustré,frustrée} | marre |
        {déçu,déçue} | sérieusement | {agacé,agacée} | frustriert | genervt | nervt | enttäuscht |
        im ernst | ernsthaft | chatead{o,a} | cansad{o,a} de | sério"""),
    ("confused", (0.1, 0.0, 0.7, 0.0, 0.0), """
        i {don't,dont,can't,cannot} {understand,follow} | i do not understand |
        {don't,dont} get it | what {do,did} you mean | what does {that,this,it} mean |
        confused | confusing | makes no sense | {doesn't,does,don't} not make sense |
        {doesn't,don't} make {,any} sense | i'm lost | im lost | unclear |
        no {,lo} entiendo | no comprendo | {qué,que} {quiere,quieres,quieren} decir |
        {qué,que} significa | confundid{o,a} | confus{o,a} | no tiene sentido |
        {je,} ne comprends pas | comprends pas | {que,qu'est-ce} {voulez-vous,vous,tu} {dire,voulez,veux} |
        ça veut dire quoi | qu'est-ce que {ça,cela} veut dire | {confus,confuse} |
        je suis {perdu,perdue} | {verstehe,versteh} {nicht,ich,das} | was meinen sie |
        was {heißt,bedeutet} das | {verwirrt,verwirrend} | unklar | ergibt keinen sinn |
        não {entendo,entendi,compreendo} | como assim | o que {quer,significa} |
        o que você quer dizer | não faz sentido"""),
    ("how", (0.0, 0.0, 0.35, 0.0, 0.0), """
        how {do,can,should,would} i | how does {this,it,that} | how to |
        where {do,can} i {find,see,get,change} | not sure {how,what,where,if,why} | complicated |
        {cómo,como} {puedo,hago,funciona} | {dónde,donde} {puedo,encuentro} | complicado |
        comment {faire,puis-je} | comment est-ce que | où {puis-je,trouver} | compliqué |
        wie {kann,mache} ich | wie geht das | wie funktioniert | wo {finde,kann} ich | kompliziert |
        como {faço,posso} | onde {encontro,posso}"""),
    ("urgent", (0.1, 0.05, 0.0, 0.6, 0.0), """
        immediately | asap | urgent | urgently | emergency | right now | right away |
        as soon as possible | without delay | inmediatamente | urgente | urgentemente |
        urgencia | cuanto antes | lo antes posible | ya mismo | ahora mismo | immédiatement |
        tout de suite | urgence | au plus vite | dès que possible | sofort | dringend | umgehend |
        so schnell wie möglich | schnellstens | eilig | imediatamente | o quanto antes |
        o mais rápido possível | agora mesmo | urgência"""),
    ("soon", (0.0, 0.0, 0.0, 0.2, 0.0), """
        now | today | tonight | quickly | hurry | ahora | hoy | rápido | maintenant |
        aujourd'hui | vite | jetzt | heute | schnell | agora | hoje | logo"""),
    ("thanks_strong", (0.0, 0.0, 0.0, 0.0, 0.65), """
        thank you {so,very} much | thanks {so,a} {much,lot,million} | appreciate | appreciated |
        {that,it} {solved,fixed,sorted} {it,that} | {solved,fixed,sorted} it | that worked |
        it worked | works now | works perfectly | perfect | excellent | awesome | amazing |
        wonderful | brilliant | fantastic | solved | love it | muchas gracias | mil gracias |
        perfect{o,a} | genial | excelente | resuelto | solucionado | ya funciona |
        merci beaucoup | parfait | génial | résolu | ça marche | ça fonctionne | vielen dank |
        perfekt | toll | prima | klasse | gelöst | funktioniert jetzt | muito obrigad{o,a} |
        perfeit{o,a} | ótimo | resolvid{o,a} | funcionou | valeu"""),
    ("thanks", (0.0, 0.0, 0.0, 0.0, 0.35), """
        thanks | thank you | thank | thx | ty | great | super | nice | cool | helpful | glad |
        happy | gracias | merci | danke | obrigad{o,a} | muy amable | très gentil | sehr nett"""),
    # Asking for a person (no weight of its own; see _HUMAN_*).
    ("ask", _ZERO_W, """
        let me {speak,talk} | i {want,need,demand} | i'd like | i would like | {can,could,may} i |
        {transfer,connect,put,get,give,pass} me | speak | talk | quiero | necesito | exijo |
        quisiera | puedo | {pásame,páseme,pasame,paseme,pásenme} | comuníqueme | hablar |
        je {veux,voudrais,souhaite,demande} | j'exige | passez-moi | mettez-moi | parler |
        ich {will,möchte,brauche,verlange} | verbinden sie mich | sprechen | quero | preciso |
        gostaria de | me {transfira,passe,passa} | falar"""),
    ("person", _ZERO_W, """
        real person | real human | actual person | actual human | live agent | human please |
        agent please | representative please | operator please | manager please |
        persona real | vraie personne | echten menschen | pessoa de verdade"""),
)

# Nouns that name someone to talk to, valid after one of the determiners (or, for the
# pronouns, after anything).
_HUMAN_NOUNS: Final = frozenset([
    "human", "person", "people", "agent", "manager", "supervisor", "representative", "rep", "operator",
    "boss", "lead", "persona", "humano", "agente", "gerente", "supervisora", "encargado", "encargada",
    "responsable", "operador", "jefe", "jefa", "humain", "conseiller", "conseillère", "superviseur",
    "directeur", "opérateur", "chef", "personne", "menschen", "mensch", "mitarbeiter", "mitarbeiterin",
    "vorgesetzten", "berater", "beraterin", "verantwortlichen", "pessoa", "atendente", "chefe"
])
_HUMAN_PRONOUNS: Final = frozenset(
    ["someone", "somebody", "alguien", "quelqu'un", "jemandem", "jemanden", "alguém"]
)
_DETERMINERS: Final = frozenset([
    "a", "an", "the", "your", "some", "to", "with", "real", "actual", "live", "human", "team", "un",
    "una", "el", "la", "su", "con", "algún", "alguna", "une", "le", "votre", "à", "avec", "vraie",
    "einem", "einen", "eine", "einer", "mit", "ihren", "ihrem", "den", "dem", "echten", "um", "uma",
    "o", "com", "seu", "sua"
])
_ASK_WINDOW: Final = 8  # words from the ask to the person asked for

_DET_STRIP: Final = ".,;:!?¡¿()[]\"'«»…*-"
_SENTENCE_END: Final = (".", "!", "?")
_ACRONYMS: Final = frozenset([
    "API", "APP", "ATM", "BIC", "CEO", "CRM", "CSV", "DHL", "EUR", "FAQ", "GBP", "IBAN", "IOS", "MFA",
    "OTP", "PDF", "PIN", "SEPA", "SMS", "SSO", "UPS", "URL", "USB", "USD", "VAT", "VIP", "TVA", "MWST",
    "CPF", "CNPJ", "PIX", "NIF", "DNI", "IVA", "GDPR", "RGPD", "DSGVO"
])
_SHOUTED_DEADLINE: Final = frozenset([
    "NOW", "ASAP", "URGENT", "IMMEDIATELY", "TODAY", "AHORA", "URGENTE", "HOY", "MAINTENANT",
    "IMMÉDIATEMENT", "SOFORT", "JETZT", "DRINGEND", "AGORA", "HOJE"
])


def _expand(phrase: str) -> Iterator[tuple[str, ...]]:
    """Every word sequence a phrase stands for ("{a,b}" alternatives, empty ones dropped)."""
    options = []
    for word in phrase.split():
        match = re.fullmatch(r"(.*)\{([^}]*)\}(.*)", word)
        if match:
            head, alts, tail = match.groups()
            options.append([head + alt + tail for alt in alts.split(",")])
        else:
            options.append([word])
    for combo in itertools.product(*options):
        words = tuple(" ".join(combo).split())
        if words:
            yield words


# A cue that starts at a word: (priority rank, kind, swallows one more word if there is one).
_Hit = tuple[int, str, bool]


def _compile() -> dict[str, tuple[tuple[int, ...], dict[tuple[str, ...], _Hit]]]:
    """First word → (lengths of the following words, longest first; following words → hit).
    A trailing "*" is kept as the swallow flag."""
    table: dict[str, dict[tuple[str, ...], _Hit]] = {}
    for rank, (kind, _, phrases) in enumerate(_CUES):
        for phrase in phrases.split("|"):
            for words in _expand(phrase.strip()):
                swallow = words[-1] == "*"
                rest = words[1:-1] if swallow else words[1:]
                hits = table.setdefault(words[0], {})
                known = hits.get(rest)
                if known is None or rank < known[0] or (rank == known[0] and swallow):
                    hits[rest] = (rank, kind, swallow)
    return {
        first: (tuple(sorted({len(rest) for rest in hits}, reverse=True)), hits)
        for first, hits in table.items()
    }


_PHRASES: Final = _compile()
_CUE_STRIP: Final = ".,;:!?¡¿()[]\"'«»…*"
_WEIGHTS: Final[dict[str, _Weights]] = {kind: weights for kind, weights, _ in _CUES}

# The cues that start at one word as a tree over the (stripped) words that follow it: a node
# is (the hit of the cue that ends there, or None; the next words → their nodes).
_Node = tuple[_Hit | None, dict[str, "_Node"]]
# What a word that starts a cue or names a person leads to: whether it names a person (1: a
# noun, counted after a determiner; 2: a pronoun, always counted), the hit of the cue that is
# the word alone, and the next words of its longer cues.
_Start = tuple[int, _Hit | None, dict[str, _Node]]


def _tree(hits: dict[tuple[str, ...], _Hit]) -> dict[str, _Node]:
    """The next words → nodes of one start word's cues (keyed by the words after it)."""
    by_next: dict[str, dict[tuple[str, ...], _Hit]] = {}
    for rest, hit in hits.items():
        if rest:
            by_next.setdefault(rest[0], {})[rest[1:]] = hit
    return {word: (longer.get(()), _tree(longer)) for word, longer in by_next.items()}


def _start(word: str) -> _Start:
    person = 1 if word in _HUMAN_NOUNS else 2 if word in _HUMAN_PRONOUNS else 0
    table = _PHRASES.get(word)
    if table is None:
        return (person, None, {})
    hits = table[1]
    return (person, hits.get(()), _tree(hits))


_STARTS_BY_WORD: Final = {
    word: _start(word) for word in dict.fromkeys((*_PHRASES, *_HUMAN_NOUNS, *_HUMAN_PRONOUNS))
}
# A word as split from text, with punctuation around it, → what the bare word starts (shared by
# all the forms of one word); built once so that the scan is one lookup per word.
_START: Final[dict[str, _Start]] = {
    variant: _STARTS_BY_WORD[word]
    for variant, word in {
        f"{pre}{word}{post}": word
        for word in (*_PHRASES, *_HUMAN_NOUNS, *_HUMAN_PRONOUNS)
        for pre in ("", "¡", "¿", "(", '"', "«")
        for post in ("", ".", ",", "!", "?", "!!", "!!!", "??", "?!", "...", ":", ";", ")", '"', "»")
    }.items()
}
# The same words as a set: a set stores each key's hash next to it, so testing a word that
# starts nothing (most words) costs fewer memory reads than a dict lookup.
_STARTS: Final = frozenset(_START)
# The most words a cue has after its first: a swallowing cue takes one more word only within
# that reach (the original scan read no further).
_LONGEST: Final = max(lengths[0] for lengths, _ in _PHRASES.values())
# UTF-8 bytes → b"A" for A-Z and every non-ASCII byte, b"a" for the rest. A shouted word (see
# :func:`detect`) has three letters in a row that are not a-z, each one A-Z or a non-ASCII
# character, so its bytes map to a run of b"AAA"; most messages hold none and skip the second
# split and its per-word checks.
_SHOUT_BYTES: Final = bytes(
    ord("A") if 65 <= b <= 90 or b >= 128 else ord("a") for b in range(256)
)


_new: Final = tuple.__new__  # skips the NamedTuple's Python-level __new__


#: a person named after one of these is what the message is about ("a complaint about the
#: agent"), not who the customer asks for
_ABOUT: Final = frozenset(["about", "regarding", "sobre", "acerca", "sur", "concernant",
                           "über", "uber", "wegen"])


def _human_request(words: list[str], asks: list[int], people: list[int]) -> bool:
    for ask in asks:
        for person in people:
            if ask < person <= ask + _ASK_WINDOW and not any(
                word.endswith(_SENTENCE_END) for word in words[ask:person]
            ) and _ABOUT.isdisjoint(words[max(ask, person - 2):person]):
                return True
    return False


def detect(text: str, compound: float) -> Emotions:
    """Emotion signals of one message; ``compound`` is its VADER compound score."""
    low = text.lower()
    if "\u2019" in low:  # typographic apostrophe
        low = low.replace("\u2019", "'")
    words = low.split()
    if not words:  # empty or blank
        return NONE
    n = len(words)
    frustration = anger = confusion = urgency = satisfaction = 0.0
    human = False
    asks: list[int] = []
    people: list[int] = []
    done = 0
    start = _START
    for i in compress(count(), map(_STARTS.__contains__, words)):
        person, alone, nexts = start[words[i]]
        if person and (person == 2 or (i and words[i - 1].strip(_DET_STRIP) in _DETERMINERS)):
            people.append(i)
        if i < done:
            continue
        # Where cues of several kinds start here, the earliest kind wins, then the longest.
        # A cue goes on past the first word only if the next word continues one.
        best = alone
        best_n = 0
        node = nexts.get(words[i + 1].strip(_CUE_STRIP)) if nexts and i + 1 < n else None
        if node is not None and not words[i].endswith(_SENTENCE_END):
            m = 1
            while node is not None:
                hit, children = node
                if hit is not None and (best is None or hit[0] <= best[0]):
                    best, best_n = hit, m
                m += 1
                node = children.get(words[i + m].strip(_CUE_STRIP)) if children and i + m < n else None
        if best is None:
            continue
        _, kind, swallow = best
        done = i + 1 + best_n
        if swallow and done < n and best_n < _LONGEST and not words[i].endswith(_SENTENCE_END):
            done += 1  # and the word after it
        if kind == "ask":
            asks.append(i)
        elif kind == "person":
            human = True
        else:
            f, a, c, u, s = _WEIGHTS[kind]
            frustration += f
            anger += a
            confusion += c
            urgency += u
            satisfaction += s

    if not human and asks and people:
        human = _human_request(words, asks, people)
    if human:
        frustration += 0.3
        anger += 0.2
        urgency += 0.25

    if text.encode("utf-8", "surrogatepass").translate(_SHOUT_BYTES).find(b"AAA") >= 0:
        shouted = 0
        for caps in filter(str.isupper, text.split()):
            word = caps.strip(_DET_STRIP)
            if len(word) < 3 or not word.isalpha():
                continue  # "I", "OK", order numbers
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
    questions = text.count("?")
    if questions >= 3 or (questions == 2 and "??" in text):
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

    # Every term above is non-negative, so only the upper bound needs clipping.
    return _new(Emotions, (
        frustration if frustration < 1.0 else 1.0,
        anger if anger < 1.0 else 1.0,
        confusion if confusion < 1.0 else 1.0,
        urgency if urgency < 1.0 else 1.0,
        satisfaction if satisfaction < 1.0 else 1.0,
        human,
    ))


def detect_many(texts: Sequence[str], compounds: Sequence[float]) -> list[Emotions]:
    """:func:`detect` over a batch, in order; ``compounds`` pairs with ``texts``."""
    if len(texts) != len(compounds):
        raise ValueError(f"{len(texts)} texts but {len(compounds)} compound scores")
    return [detect(text, compound) for text, compound in zip(texts, compounds, strict=True)]
