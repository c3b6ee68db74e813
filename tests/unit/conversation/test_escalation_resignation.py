"""Escalation causes of the third round, through the replay (the code the worker runs), in
five languages: a mood that worsens into resignation (giving up, expecting nothing more, no
point), someone else in the account told as a login, device or address the customer does not
recognise, the bot's answer said to change nothing before it answers off-topic, and a
data-protection request told as overdue in its first message; with the calm and the
ordinary cases that must stay with the bot."""

from __future__ import annotations

import pytest

from streams.evaluation.guide_sets import conversation_report, plain_conversation
from streams.text.cues import found


def _escalated_at(language: str, turns: list[str]) -> tuple[int | None, list[str] | None]:
    report = conversation_report([plain_conversation(language, turns, f"r-{language}")])
    detail = report["details"][0]
    return detail["escalated_at_turn"], detail["reasons"]


#: a calm start, then resignation in the third customer message (no insult, no anger word)
RESIGNED = {
    "en": ("Hello, my printer ink subscription skipped its October delivery.",
           "Right, I have checked the account page as you said.",
           "Honestly I have lost all hope this gets sorted, there is no point in asking "
           "again."),
    "es": ("Hola, la suscripción de tinta no envió el pedido de octubre.",
           "Vale, ya he revisado la página de la cuenta como dijiste.",
           "Sinceramente ya no espero nada, me rindo con este tema."),
    "fr": ("Bonjour, l'abonnement d'encre n'a pas envoyé la livraison d'octobre.",
           "D'accord, j'ai regardé la page du compte comme indiqué.",
           "À quoi bon, j'abandonne, je n'ai plus l'énergie pour ce dossier."),
    "de": ("Hallo, das Tinten-Abo hat die Oktoberlieferung ausgelassen.",
           "Gut, ich habe die Kontoseite angesehen, wie Sie sagten.",
           "Das hat doch keinen Sinn, ich erwarte nichts mehr und gebe es auf."),
    "pt": ("Olá, a assinatura de tinta não enviou a entrega de outubro.",
           "Certo, já vi a página da conta como disseram.",
           "Sinceramente já não espero nada, desisto deste assunto."),
}


@pytest.mark.parametrize("language", sorted(RESIGNED))
def test_resignation_in_a_later_message_is_a_worsening_mood(language: str) -> None:
    first, second, third = RESIGNED[language]
    at, reasons = _escalated_at(language, [
        f"c: {first}", "b: Thanks, let me look at that.", f"c: {second}",
        "b: Thank you for checking.", f"c: {third}"])
    assert at == 4 and reasons == ["sentiment_worsening"]


@pytest.mark.parametrize("language", sorted(RESIGNED))
def test_resignation_needs_a_decline_not_a_first_message(language: str) -> None:
    """A first message that gives up reads against nothing: the mood rule starts at the
    third customer message."""
    at, _ = _escalated_at(language, [f"c: {RESIGNED[language][2]}"])
    assert at is None


#: a login, device, address or member the customer does not recognise or never invited
UNRECOGNISED = {
    "en": "My account shows a sign-in from a tablet I don't recognise and a new admin.",
    "es": "En la cuenta hay un dispositivo que no reconozco conectado desde ayer.",
    "fr": "Je vois dans l'historique une connexion depuis un appareil que je ne connais pas.",
    "de": "In meinem Konto ist ein Gerät angemeldet, das ich nicht kenne.",
    "pt": "A senha foi trocada e aparece uma sessão num dispositivo que não reconheço.",
}


@pytest.mark.parametrize("language", sorted(UNRECOGNISED))
def test_an_unrecognised_way_into_the_account_is_a_security_incident(language: str) -> None:
    assert "security" in found(UNRECOGNISED[language])
    at, reasons = _escalated_at(language, [
        "c: Hi, quick question about the app settings.", "b: Sure, what do you need?",
        f"c: {UNRECOGNISED[language]}"])
    assert at == 2 and reasons is not None and "policy_topic" in reasons


@pytest.mark.parametrize("text", [
    "There is a charge of 12.99 on my card I don't recognise.",  # billing, not security
    "No reconozco este cargo en la factura.",
    "Le login affiche une erreur inconnue.",  # a fault
    "Wie ändere ich das Passwort auf einem neuen Gerät?",  # a how-to
    "Como mudo a senha da conta?",
])
def test_an_unrecognised_charge_or_a_how_to_is_no_security_incident(text: str) -> None:
    assert "security" not in found(text)


#: "it changed nothing" / "it does not help us", then the bot answers about something else
UNCHANGED = {
    "en": ("The invoice page stays blank in the portal.", "Clearing the cache changes "
           "nothing, the page is still blank.",
           "Our spring sale has started: 20 percent off all garden furniture this week."),
    "es": ("La página de facturas sale en blanco en el portal.",
           "Borrar la caché no cambia nada, sigue en blanco.",
           "Nuestras rebajas de primavera empiezan: veinte por ciento en muebles de jardín."),
    "fr": ("La page des factures reste blanche dans le portail.",
           "Vider le cache ne change rien, c'est toujours blanc.",
           "Nos soldes de printemps commencent : vingt pour cent sur les meubles de jardin."),
    "de": ("Die Rechnungsseite im Portal bleibt leer.",
           "Den Cache leeren ändert nichts, die Seite bleibt leer.",
           "Unser Frühjahrsverkauf beginnt: zwanzig Prozent auf alle Gartenmöbel."),
    "pt": ("A página das faturas fica em branco no portal.",
           "Limpar a cache não muda nada, continua em branco.",
           "Começaram os saldos de primavera: vinte por cento em mobiliário de jardim."),
}


@pytest.mark.parametrize("language", sorted(UNCHANGED))
def test_an_off_topic_answer_after_it_changed_nothing_is_a_bot_loop(language: str) -> None:
    first, unchanged, promo = UNCHANGED[language]
    assert "not_helped" in found(unchanged)
    at, reasons = _escalated_at(language, [
        f"c: {first}", "b: Please clear your browser cache and reload the portal.",
        f"c: {unchanged}", f"b: {promo}"])
    assert at == 3 and reasons == ["bot_failure_loop"]


@pytest.mark.parametrize(("language", "text"), [
    ("en", "I asked for a copy of my personal data under GDPR in June and received nothing."),
    ("es", "Pedí mis datos personales por el RGPD en junio y no he recibido nada."),
    ("fr", "J'ai demandé mes données personnelles (RGPD) en juin et je n'ai rien reçu."),
    ("de", "Ich habe im Juni nach DSGVO Auskunft beantragt und bis heute nichts erhalten."),
    ("pt", "Pedi os meus dados pessoais pelo RGPD em junho e não recebi nada."),
])
def test_a_data_request_told_as_overdue_in_one_message_is_a_policy_topic(
        language: str, text: str) -> None:
    at, reasons = _escalated_at(language, [f"c: {text}"])
    assert at == 0 and reasons is not None and "policy_topic" in reasons


@pytest.mark.parametrize("text", [
    "My login history shows a phone I have never owned.",
    "En el historial aparece un dispositivo que no es mío.",
    "L'historique montre un appareil qui n'est pas à moi.",
    "Im Verlauf ist ein Gerät angemeldet, das mir nicht gehört, es gehört mir nicht.",
    "No histórico aparece um dispositivo que não é meu.",
])
def test_a_device_that_is_not_the_customers_is_a_security_incident(text: str) -> None:
    assert "security" in found(text)
