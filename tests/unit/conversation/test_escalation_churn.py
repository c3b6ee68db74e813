"""A churn cue in a calm cancellation is the reason for leaving, not a threat (LABELS.md keeps
calm cancellations with the bot); the same cue with a condition or an ultimatum, or outside a
cancellation, still escalates; a warning given in anger ("don't you dare") is exasperation.
Through the rules the fold runs, in five languages."""

from __future__ import annotations

import pytest

from streams.conversation.escalation import upset_message
from streams.text.cues import found

CALM = [
    "Please cancel the Pro licence, we are moving to another tool.",
    "Quiero cancelar la licencia, nos cambiamos de proveedor, me cambio de compañía.",
    "Je voudrais résilier, je pars chez un concurrent.",
    "Ich möchte kündigen, ich wechsle zu einem anderen Anbieter.",
    "Quero cancelar, vou trocar de operadora.",
]


@pytest.mark.parametrize("text", CALM)
def test_a_calm_cancellation_with_its_reason_is_no_threat(text: str) -> None:
    cues = found(text)
    assert "churn" in cues
    assert upset_message("cancellation", cues, False, 0.0) is None


@pytest.mark.parametrize("text", [
    "Fix it by Friday or I'll cancel and go to a competitor.",
    "Si no lo arregláis me cambio de compañía.",
    "Réparez ça, sinon je résilie et je pars chez un concurrent.",
    "Beheben Sie das, sonst kündige ich und wechsle zu einem anderen Anbieter.",
    "Resolvam isto ou vou trocar de operadora.",
])
def test_a_cancellation_with_a_condition_or_an_ultimatum_is_a_threat(text: str) -> None:
    assert upset_message("cancellation", found(text), False, 0.0) == "sentiment_worsening"


@pytest.mark.parametrize("text", CALM)
def test_a_churn_cue_outside_a_cancellation_is_a_threat(text: str) -> None:
    assert upset_message("complaint", found(text), False, 0.0) == "sentiment_worsening"


@pytest.mark.parametrize("text", [
    "Cancel it today and don't you dare charge me again.",
    "Dadme de baja y ni se os ocurra cobrarme otra vez.",
    "Résiliez et ne vous avisez pas de me prélever encore.",
    "Kündigen Sie und wagen Sie es nicht, noch einmal abzubuchen.",
    "Cancelem hoje e nem se atrevam a cobrar outra vez.",
])
def test_a_warning_given_in_anger_is_exasperation(text: str) -> None:
    cues = found(text)
    assert "exasperation" in cues
    assert upset_message("cancellation", cues, False, 0.0) == "sentiment_worsening"


@pytest.mark.parametrize("text", [
    "If you can't fix the line this week I'm ending my contract.",
    "Si no lo arregláis esta semana, me doy de baja del contrato.",
    "Si vous ne réparez pas la ligne cette semaine, je résilie mon contrat.",
    "Wenn das nicht diese Woche behoben ist, kündige ich den Vertrag.",
    "Se não resolverem a linha esta semana, vou cancelar o contrato.",
])
def test_ending_a_service_on_a_condition_is_a_threat_whatever_the_intent(text: str) -> None:
    assert upset_message("complaint", found(text), False, 0.0) == "sentiment_worsening"
