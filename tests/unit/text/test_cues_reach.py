"""Cues of the label guide's reasons in the forms the first lexicons missed, in five
languages: distress told as stress, nerves, discouragement or being fobbed off; a company
impersonated by its logo or name; "it wasn't me" in the other word order; card details given
through a link; "still" after a data-protection request; a human or a call back asked in
other forms; and the calm cancellations that are no churn threat."""

from __future__ import annotations

import pytest

from streams.text import cues


def test_german_sharp_s_folds_to_ss() -> None:
    assert cues.folded("Ich weiß nicht") == " ich weiss nicht "
    assert "distress" in cues.found("Ich weiß nicht mehr weiter mit dieser Sache.")


@pytest.mark.parametrize("text", [
    "Honestly this whole thing has me stressed and a bit disheartened.",
    "I keep getting fobbed off with a different story.",
    "Estoy muy estresada con este tema y bastante desanimada.",
    "Siento que me dan largas cada vez que escribo.",
    "Je suis stressé et franchement découragé par tout ça.",
    "J'ai l'impression qu'on me balade depuis le début.",
    "Das Ganze macht mich fertig, ich fühle mich hingehalten.",
    "Ich werde hier nicht ernst genommen und bin völlig entmutigt.",
    "Estou estressado e desanimado com essa situação.",
    "Sinto que estão me enrolando desde o começo.",
])
def test_distress_as_stress_discouragement_or_being_fobbed_off(text: str) -> None:
    assert "distress" in cues.found(text)


@pytest.mark.parametrize("text", [
    "I got a letter with your logo asking me to confirm my bank login.",
    "Recibí un SMS con vuestro logo pidiendo un pago pendiente.",
    "Un message avec votre logo me demande de payer des frais de douane.",
    "Eine Nachricht mit Ihrem Logo verlangt eine Nachzahlung.",
    "Chegou uma mensagem com o vosso logo a pedir um pagamento.",
    "Están mandando mensajes falsos en vuestro nombre.",
    "Someone sends messages in your name? No: that wasn't me who ordered it.",
    "Yo no he sido, esa compra no la hice.",
    "Das war ich nicht, ich habe nichts bestellt.",
])
def test_impersonation_and_it_was_not_me_are_security(text: str) -> None:
    assert "security" in cues.found(text)


def test_we_put_your_logo_on_our_shirts_is_no_impersonation() -> None:
    assert "security" not in cues.found("As sponsors we would print your logo on our shirts.")


@pytest.mark.parametrize("text", [
    "I clicked the link in the text and entered my card number.",
    "Pinché en el enlace y puse los datos de mi tarjeta.",
    "J'ai cliqué sur le lien et saisi mon numéro de carte.",
    "Ich habe auf den Link geklickt und meine Kartendaten eingegeben.",
    "Cliquei no link e coloquei os dados do cartão.",
])
def test_card_details_through_a_link_are_phishing(text: str) -> None:
    found = cues.found(text)
    assert {"card_details", "link_followed"} <= found


@pytest.mark.parametrize("text", [
    "Could someone call me? Or ring me after five.",
    "¿Me puede pasar con un agente, por favor?",
    "Je voudrais être rappelé demain matin.",
    "Ich hätte gern einen Rückruf oder einen Menschen am Telefon.",
    "Quero falar com um humano, por favor.",
])
def test_a_human_or_a_call_back_asked_in_other_forms(text: str) -> None:
    assert "person" in cues.found(text)


@pytest.mark.parametrize(("text", "churn"), [
    ("Hiermit kündige ich meinen Vertrag zum Monatsende.", False),
    ("Wenn das so bleibt, dann kündige ich.", True),
    ("Si je résilie maintenant, est-ce que je paie des frais ?", False),
    ("Réparez ça, sinon je résilie.", True),
])
def test_a_calm_cancellation_is_no_churn_threat(text: str, churn: bool) -> None:
    assert ("churn" in cues.found(text)) is churn


def test_betrug_as_amounted_to_is_no_fraud() -> None:
    assert cues.found("Die Wartezeit betrug gestern eine Stunde.").isdisjoint(
        ("security", "abuse"))
    assert "security" in cues.found("Das ist Betrug, ich habe das nie bestellt.")
    assert "security" in cues.found("Ich melde einen Betrugsversuch per SMS.")


@pytest.mark.parametrize("text", [
    "Esto es un atraco, me habéis subido la cuota otra vez.",
    "Isso é um assalto, o plano subiu de novo.",
    "Das ist Wucher und ein unfähiger Kundendienst.",
])
def test_robbery_usury_and_incompetence_are_accusations(text: str) -> None:
    assert "abuse" in cues.found(text)
