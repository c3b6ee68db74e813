"""The stems of the ``distress`` cue of ``streams.text.cues``, in en, es, fr, de and pt:
data only, in the form of ``streams.text.cue_lexicon`` (lower case, accent-folded, matched
at word starts; a stem of three letters or fewer, or one ending in a space, ends a word).

Distress is a worsening mood without anger or insult: despair, helplessness, feeling
ignored, a lot at stake, stress, being fobbed off, and resignation (giving up, expecting
nothing more, no point, deep disappointment). It is never a reason alone: the trend rule
reads it against the conversation's calmest earlier message from the third customer message
on (``escalation.mood_decline``), so a first message that says "no point" escalates nothing.
"""

from __future__ import annotations

from typing import Final

STEMS: Final[dict[str, tuple[str, ...]]] = {
    # a worsening mood told as despair, helplessness, feeling ignored or a lot at stake: no
    # anger and no insult, so not a reason alone; the trend rule reads it against the
    # conversation's start (escalation.mood_decline)
    "distress": (
        "desperate", "don't know what else", "do not know what else", "no idea what else",
        "feel ignored", "feel completely ignored", "being ignored", "nobody helps",
        "no one helps", "nobody can tell me", "no one can tell me", "at stake",
        "exhausted", "worn out", "tried everything", "done everything you",
        "desesperad", "no se que mas hacer", "no se que hacer", "nadie me ayuda",
        "nadie me da", "nadie me dice", "me ignoran", "me estoy jugando", "en juego",
        "agotad", "todas las formas", "lo he intentado todo", "he probado de todo",
        "he hecho todo", "desespere", "je ne sais plus quoi faire", "je ne sais plus",
        "personne ne m'aide", "personne ne me", "on m'ignore", "en jeu", "epuise",
        "tout essaye", "fait tout ce que", "verzweifelt", "weiss nicht mehr weiter",
        "weiss nicht, was ich noch", "niemand hilft", "niemand kann mir", "ignoriert",
        "auf dem spiel", "erschopft", "alles versucht", "alles gemacht", "desesperad",
        "nao sei o que fazer", "nao sei mais o que", "ninguem me ajuda", "ninguem resolve",
        "ninguem me da", "me ignoram", "ignorad", "em jogo", "esgotad", "tentei de tudo",
        "ja fiz de tudo", "todas as formas",
        # stress and nerves, discouragement, being fobbed off or made fun of, worn down
        "stressed", "stressing me", "nervous wreck", "my nerves", "discouraged",
        "disheartened", "fobbed off", "runaround", "run around", "brushed off",
        "taken seriously", "making fun of me", "wearing me down", "losing sleep",
        "estresad", "mis nervios", "los nervios", "desanimad", "me dan largas",
        "me toman por", "se burlan de mi", "en serio a nadie", "me quita el sueno",
        "stresse", "mes nerfs", "decourag", "on me balade", "on me mene en bateau",
        "se moque de moi", "se moquer de moi", "pris au serieux", "m'epuise", "me ronge",
        "gestresst", "nerven", "entmutigt", "hingehalten", "abgewimmelt",
        "nicht ernst genommen", "macht mich fertig", "nicht mehr weiter", "schlaflos",
        "estressad", "meus nervos", "os nervos", "desanimad", "desmotivad", "me enrolando",
        "me enrolam", "a enrolar-me", "gozando da minha cara", "levado a serio",
        "tirar o sono",
        # resignation: giving up, expecting nothing more, no point, losing the will, nobody
        # caring, deep disappointment (an intensifier with it: "disappointed" alone is mild)
        "no point", "pointless", "what's the point", "not worth it", "not worth the",
        "stopped expecting", "don't expect anything", "no longer expect", "lost all hope",
        "lost hope", "losing hope", "given up on", "giving up on", "stop trying",
        "no energy left", "don't have the energy", "losing the will", "lost the will",
        "nobody cares", "no one cares", "so disappointed", "really disappointed",
        "deeply disappointed", "bitterly disappointed", "expected better", "expected more",
        "no vale la pena", "para que molestarme", "ya no espero nada", "no espero nada",
        "perdido la esperanza", "perdi la esperanza", "me rindo", "tiro la toalla",
        "ya no tengo ganas", "pierdo las ganas", "no tengo fuerzas", "a nadie le importa",
        "muy decepcionad", "tan decepcionad", "totalmente decepcionad", "esperaba mas",
        "esperaba otra cosa", "ne vaut pas la peine", "ne vaut plus la peine", "peine perdue",
        "a quoi bon", "laisser tomber", "je laisse tomber", "j'abandonne",
        "je n'attends plus", "plus aucun espoir", "perdu espoir", "perdu tout espoir",
        "plus l'energie", "plus la force", "plus envie", "tout le monde s'en fiche",
        "tellement decu", "vraiment decu", "tres decu", "profondement decu",
        "j'attendais mieux", "hat keinen sinn", "hat doch keinen sinn", "sinnlos",
        "zwecklos", "lohnt sich nicht", "ich gebe auf", "gebe es auf", "erwarte nichts mehr",
        "erwarte ich nichts mehr", "keine hoffnung", "hoffnung aufgegeben",
        "keine kraft mehr", "keine energie mehr", "keine lust mehr", "interessiert niemand",
        "niemanden interessiert", "nur enttauscht", "sehr enttauscht", "so enttauscht",
        "total enttauscht", "masslos enttauscht", "zutiefst enttauscht", "mehr erwartet",
        "besseres erwartet", "nao vale a pena", "nao compensa", "desisto", "desisti",
        "ja nao espero nada", "nao espero nada", "perdi a esperanca", "sem esperanca",
        "menos vontade", "sem vontade", "perdi a vontade", "sem forcas",
        "ninguem quer saber", "ninguem se importa", "muito decepcionad", "tao decepcionad",
        "totalmente decepcionad", "muito desiludid", "esperava mais", "esperava melhor"),
}
