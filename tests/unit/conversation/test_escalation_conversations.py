"""The label guide's conversation-level reasons, through the replay (the code the worker runs),
in five languages: a mood that declines against the conversation's own start without an
angry word, a bot answering off-topic or the customer saying twice that it did not help,
policy topics told in other words (impersonation, someone else in the account, regulators and
lawyers by other names), requests for a person of a department, the end of one's patience;
and the calm conversations next to each, which must stay with the bot."""

from __future__ import annotations

import pytest

from streams.evaluation.guide_sets import conversation_report
from streams.evaluation.guide_sets import plain_conversation as _conv


def _at(language: str, turns: list[str]) -> int | None:
    report = conversation_report([_conv(language, turns)])
    at: int | None = report["details"][0]["escalated_at_turn"]
    return at


def _reasons(language: str, turns: list[str]) -> list[str] | None:
    reasons: list[str] | None = conversation_report(
        [_conv(language, turns)])["details"][0]["reasons"]
    return reasons


#: a calm start, a neutral middle, then despair or feeling ignored: no insult, no capitals
DECLINE = [
    ("en", ["c: Hello, my March invoice is missing from the billing page.",
            "b: I can email it to you. Is the address on your profile right?",
            "c: Yes, that one is fine.",
            "b: Sent. It can take a few minutes.",
            "c: Still nothing after a whole week of this. I feel ignored and I honestly "
            "don't know what else to do."]),
    ("es", ["c: Buenas tardes, no encuentro la factura de marzo en mi área de cliente.",
            "b: Te la envío por correo. ¿La dirección de tu perfil es correcta?",
            "c: Sí, esa es la buena.",
            "b: Enviado. Puede tardar unos minutos.",
            "c: Sigue sin llegar después de una semana. Me siento ignorado y ya no sé qué "
            "hacer, estoy desesperado."]),
    ("fr", ["c: Bonjour, ma facture de mars n'apparaît pas dans mon espace client.",
            "b: Je vous l'envoie par e-mail. L'adresse de votre profil est-elle la bonne ?",
            "c: Oui, c'est bien celle-là.",
            "b: C'est envoyé, cela peut prendre quelques minutes.",
            "c: Toujours rien au bout d'une semaine. Je ne sais plus quoi faire, je suis "
            "désespéré."]),
    ("de", ["c: Guten Tag, meine Rechnung für März fehlt im Kundenportal.",
            "b: Ich sende sie per E-Mail. Stimmt die Adresse in Ihrem Profil?",
            "c: Ja, die stimmt.",
            "b: Gesendet, das kann ein paar Minuten dauern.",
            "c: Eine Woche später fehlt sie noch. Ich fühle mich ignoriert und bin "
            "langsam verzweifelt."]),
    ("pt", ["c: Boa tarde, a fatura de março não aparece na minha área de cliente.",
            "b: Vou enviar por e-mail. O endereço do seu perfil está certo?",
            "c: Sim, esse está certo.",
            "b: Enviado, pode levar alguns minutos.",
            "c: Depois de uma semana continua sem nada. Me sinto ignorado e já não sei o que "
            "fazer, estou desesperado."]),
]


@pytest.mark.parametrize(("language", "turns"), DECLINE, ids=[d[0] for d in DECLINE])
def test_a_mood_declining_from_a_calm_start_escalates_at_its_low_point(
        language: str, turns: list[str]) -> None:
    assert _at(language, turns) == 4
    assert _reasons(language, turns) == ["sentiment_worsening"]


@pytest.mark.parametrize(("language", "turns"), DECLINE, ids=[d[0] for d in DECLINE])
def test_distress_in_the_first_messages_is_no_trend_yet(language: str,
                                                         turns: list[str]) -> None:
    # the same distressed words as the second customer message: no trend to read yet
    assert _at(language, [turns[0], turns[1], turns[4]]) is None


#: the customer says the answer did not help; the bot then answers about something else
OFF_TOPIC = [
    ("en", "c: Can I pay the yearly plan by bank transfer?",
     "b: Our plans are listed on the pricing page.",
     "c: That doesn't answer it, I asked about paying by transfer.",
     "b: You can change your profile picture under Settings."),
    ("es", "c: ¿Puedo pagar el plan anual por transferencia bancaria?",
     "b: Nuestros planes aparecen en la página de precios.",
     "c: Eso no me sirve, pregunto por pagar con transferencia.",
     "b: Puedes cambiar tu foto de perfil en Ajustes."),
    ("fr", "c: Puis-je payer l'abonnement annuel par virement bancaire ?",
     "b: Nos abonnements sont listés sur la page des tarifs.",
     "c: Ça ne m'aide pas, je demande pour payer par virement.",
     "b: Vous pouvez changer votre photo de profil dans Réglages."),
    ("de", "c: Kann ich den Jahrestarif per Banküberweisung zahlen?",
     "b: Unsere Tarife stehen auf der Preisseite.",
     "c: Das hilft mir nicht, ich frage nach der Zahlung per Überweisung.",
     "b: Ihr Profilbild ändern Sie unter Einstellungen."),
    ("pt", "c: Posso pagar o plano anual por transferência bancária?",
     "b: Nossos planos estão na página de preços.",
     "c: Isso não me ajuda, pergunto sobre pagar por transferência.",
     "b: Você pode trocar sua foto de perfil em Configurações."),
]


@pytest.mark.parametrize(("language", "first", "answer", "unhelped", "stray"), OFF_TOPIC,
                         ids=[o[0] for o in OFF_TOPIC])
def test_an_off_topic_answer_after_did_not_help_is_a_bot_loop(
        language: str, first: str, answer: str, unhelped: str, stray: str) -> None:
    turns = [first, answer, unhelped, stray]
    assert _at(language, turns) == 3
    assert _reasons(language, turns) == ["bot_failure_loop"]
    # the same answer before the customer said anything: a bot may miss once
    assert _at(language, [first, stray]) is None


#: a follow-up on the same subject after "did not help" is the bot still helping
ON_TOPIC = [
    ("en", ["c: The app crashes when I open my invoices.", "b: Please update the app.",
            "c: Updated it, that didn't help.", "b: Then reinstall the app, please.",
            "c: Reinstalled, it works now. Thanks!"]),
    ("es", ["c: La aplicación se cierra al abrir mis facturas.",
            "b: Actualiza la aplicación, por favor.", "c: La actualicé y no me ayudó.",
            "b: Entonces reinstala la aplicación.", "c: Reinstalada, ya funciona. ¡Gracias!"]),
    ("fr", ["c: L'application plante quand j'ouvre mes factures.",
            "b: Mettez à jour l'application.", "c: C'est fait, ça ne m'aide pas.",
            "b: Alors réinstallez l'application.", "c: Réinstallée, ça marche. Merci !"]),
    ("de", ["c: Die App stürzt ab, wenn ich meine Rechnungen öffne.",
            "b: Bitte aktualisieren Sie die App.", "c: Gemacht, hat nicht geholfen.",
            "b: Dann installieren Sie die App neu.", "c: Neu installiert, jetzt geht es. Danke!"]),
    ("pt", ["c: O aplicativo fecha quando abro minhas faturas.",
            "b: Atualize o aplicativo, por favor.", "c: Atualizei, não ajudou.",
            "b: Então reinstale o aplicativo.", "c: Reinstalei e funcionou. Obrigado!"]),
]


@pytest.mark.parametrize(("language", "turns"), ON_TOPIC, ids=[o[0] for o in ON_TOPIC])
def test_a_follow_up_on_the_same_subject_is_no_loop(language: str, turns: list[str]) -> None:
    assert _at(language, turns) is None


#: "did not help" twice, in words other than the bot repeating itself
TWICE = [
    ("en", "c: My parcel tracking has not moved for five days.",
     "b: Parcels usually arrive within a week.", "c: Not helpful, it has been stuck for days.",
     "b: Tracking can update late.", "c: How is that relevant? Where is the parcel?"),
    ("es", "c: El seguimiento de mi paquete no se mueve desde hace cinco días.",
     "b: Los paquetes suelen llegar en una semana.", "c: No me ayuda, lleva días parado.",
     "b: El seguimiento puede actualizarse tarde.",
     "c: ¿Y qué tiene que ver? ¿Dónde está el paquete?"),
    ("fr", "c: Le suivi de mon colis ne bouge plus depuis cinq jours.",
     "b: Les colis arrivent en général sous une semaine.",
     "c: Ça ne m'aide pas, il est bloqué depuis des jours.",
     "b: Le suivi peut se mettre à jour en retard.", "c: Quel rapport ? Où est le colis ?"),
    ("de", "c: Die Sendungsverfolgung meines Pakets steht seit fünf Tagen still.",
     "b: Pakete kommen meist innerhalb einer Woche.",
     "c: Das hilft nicht, es hängt seit Tagen fest.",
     "b: Die Verfolgung wird manchmal spät aktualisiert.",
     "c: Was hat das mit meinem Paket zu tun? Wo ist es?"),
    ("pt", "c: O rastreio da minha encomenda não se mexe há cinco dias.",
     "b: As encomendas costumam chegar em uma semana.",
     "c: Não ajudou, está parada há dias.", "b: O rastreio pode atualizar com atraso.",
     "c: O que isso tem a ver? Onde está a encomenda?"),
]


@pytest.mark.parametrize("turns", TWICE, ids=[t[0] for t in TWICE])
def test_saying_twice_it_did_not_help_is_a_bot_loop(turns: tuple[str, ...]) -> None:
    language, *rest = turns
    got = _at(language, list(rest))
    # the bot's second answer shares the subject (tracking): the customer's second
    # "did not help" is what shows the loop
    assert got == 4
    assert "bot_failure_loop" in (_reasons(language, list(rest)) or [])


@pytest.mark.parametrize(("language", "text"), [
    ("en", "I got a text supposedly from you and clicked the link, then entered my password."),
    ("es", "Recibí un SMS haciéndose pasar por vosotros e introduje mi contraseña."),
    ("fr", "J'ai reçu un faux SMS à votre nom et j'ai cliqué sur un lien."),
    ("de", "Eine gefälschte Mail in Ihrem Namen, ich habe den Link angeklickt."),
    ("pt", "Recebi um SMS se passando por vocês e cliquei no link."),
    ("en", "There's an order in my history I never placed, someone is using my account."),
    ("es", "Hay un pedido que no hice yo, alguien está usando mi cuenta."),
    ("fr", "Quelqu'un a modifié mon adresse, ce n'est pas moi."),
    ("de", "Da ist eine Bestellung, die war ich nicht, jemand hat Zugriff auf mein Konto."),
    ("pt", "Alguém mudou meu endereço, nunca fiz esse pedido."),
])
def test_impersonation_and_someone_else_in_the_account_are_policy_topics(
        language: str, text: str) -> None:
    turns = ["c: " + text]
    assert _at(language, turns) == 0
    assert "policy_topic" in (_reasons(language, turns) or [])


@pytest.mark.parametrize(("language", "text"), [
    ("en", "If this isn't sorted, my solicitor will be in touch."),
    ("en", "I'm reporting this to the Information Commissioner."),
    ("es", "Mañana voy a la oficina de consumo con todo esto."),
    ("es", "Pediré la hoja de reclamaciones y lo llevaré a arbitraje de consumo."),
    ("fr", "Je vais faire un signalement sur SignalConso."),
    ("de", "Ich schalte den Landesdatenschutzbeauftragten ein."),
    ("pt", "Vou registrar no livro de reclamações."),
])
def test_regulators_and_lawyers_by_other_names_are_policy_topics(language: str,
                                                                 text: str) -> None:
    assert "policy_topic" in (_reasons(language, ["c: " + text]) or [])


@pytest.mark.parametrize(("language", "text"), [
    ("en", "Could I speak to someone from your sales team about the business plan?"),
    ("es", "Quiero hablar con alguien de ventas sobre el plan de empresa."),
    ("fr", "Je voudrais parler à quelqu'un du service commercial."),
    ("de", "Ich möchte mit jemandem aus dem Vertrieb sprechen."),
    ("pt", "Queria falar com alguém do comercial sobre o plano empresarial."),
])
def test_asking_for_someone_of_a_department_is_a_human_request(language: str,
                                                               text: str) -> None:
    assert "human_request" in (_reasons(language, ["c: " + text]) or [])


@pytest.mark.parametrize(("language", "text"), [
    ("pt", "Quero fazer uma reclamação sobre o atendente da loja, foi pouco simpático."),
    ("en", "Thanks, that's all I needed, the reply was quick."),
    ("es", "Gracias por la respuesta, eso era todo."),
])
def test_naming_a_member_of_staff_is_no_request_for_one(language: str, text: str) -> None:
    assert "human_request" not in (_reasons(language, ["c: " + text]) or [])


@pytest.mark.parametrize(("language", "text"), [
    ("en", "Third call this week about the same fault and I'm at my wit's end."),
    ("es", "Es la tercera llamada por la misma avería, ya no puedo más."),
    ("fr", "Troisième appel pour la même panne, j'en ai assez."),
    ("de", "Dritter Anruf wegen derselben Störung, ich bin mit meinem Latein am Ende."),
    ("pt", "Terceira ligação pelo mesmo defeito, não aguento mais."),
])
def test_the_end_of_ones_patience_escalates_at_once(language: str, text: str) -> None:
    assert _at(language, ["c: " + text]) == 0


def test_mood_decline_reads_the_latest_message_against_the_calmest_earlier_one() -> None:
    from streams.conversation import escalation, journey

    j = journey.empty()
    for at, compound in enumerate((0.3, 0.0, 0.1)):
        j = journey.add(j, at, compound)
    # calm words but distressed: counts as distress_compound, 0.8 below the calmest (0.3)
    assert escalation.mood_decline(j, 3, 0.1, True) == "sentiment_worsening"
    assert escalation.mood_decline(j, 3, 0.1, False) is None  # no distress, no decline
    assert escalation.mood_decline(j, 2, 0.1, True) is None  # too early to read a trend
    flat = journey.empty()
    for at, compound in enumerate((-0.6, -0.5, -0.6)):
        flat = journey.add(flat, at, compound)
    # negative from the start: no decline against the start (other rules read that)
    assert escalation.mood_decline(flat, 3, -0.6, True) is None


@pytest.mark.parametrize(("language", "text", "team"), [
    ("en", "I'd like to talk to a person about upgrading our plan to more seats.", "sales"),
    ("es", "Quiero hablar con una persona sobre mi factura de marzo.", "billing"),
    ("fr", "Je veux parler à un conseiller, mon application plante sans arrêt.", "technical"),
    ("de", "Ich möchte mit einem Mitarbeiter sprechen, ich will meinen Vertrag kündigen.",
     "retention"),
    ("pt", "Quero falar com uma pessoa, é sobre a minha fatura.", "billing"),
])
def test_a_request_for_a_person_is_human_request_routed_to_its_task(
        language: str, text: str, team: str) -> None:
    report = conversation_report([_conv(language, ["c: " + text], "p")])
    detail = report["details"][0]
    assert detail["got_intent"] == "human_request"
    assert detail["got_team"] == team


def test_the_task_read_besides_a_request_for_a_person_names_its_team() -> None:
    from streams.conversation import escalation

    read = {"human_request": 0.5, "purchase_inquiry": 0.35, "other": 0.15}
    assert escalation.message_topic("human_request", frozenset(), read) == "sales"
    # a weak reading names no team
    assert escalation.message_topic("human_request", frozenset(), {"pricing": 0.1}) is None
    # a topic cue wins over the reading
    found = frozenset({"billing_topic"})
    assert escalation.message_topic("human_request", found, read) == "billing"


#: a data-protection request, then its being overdue in a later message
OVERDUE = [
    ("en", "c: How do I get a copy of my personal data?", "b: Use Profile > Privacy > Export.",
     "c: I did that six weeks ago and still no answer."),
    ("es", "c: ¿Cómo pido una copia de mis datos personales?",
     "b: Desde Perfil > Privacidad > Exportar.", "c: Lo pedí hace semanas y sin respuesta."),
    ("fr", "c: Comment obtenir une copie de mes données personnelles ?",
     "b: Allez dans Profil > Confidentialité > Export.",
     "c: Je l'ai fait il y a un mois et toujours pas de réponse."),
    ("de", "c: Wie bekomme ich eine Kopie meiner personenbezogenen Daten?",
     "b: Unter Profil > Datenschutz > Export.",
     "c: Das habe ich vor einem Monat gemacht und keine Antwort bekommen."),
    ("pt", "c: Como peço uma cópia dos meus dados pessoais?",
     "b: Em Perfil > Privacidade > Exportar.", "c: Pedi faz um mês e ainda nada, sem resposta."),
]


@pytest.mark.parametrize("turns", OVERDUE, ids=[o[0] for o in OVERDUE])
def test_a_data_request_that_becomes_overdue_is_a_policy_topic(turns: tuple[str, ...]) -> None:
    language, *rest = turns
    assert _at(language, list(rest)) == 2
    assert "policy_topic" in (_reasons(language, list(rest)) or [])
    # the request alone, answered, is no escalation
    assert _at(language, list(rest[:2])) is None
