"""Lexical cues of the label guide's escalation triggers and topics, in five languages."""

from __future__ import annotations

import pytest

from streams.text import cues


def test_folding_lowers_strips_accents_and_straightens_apostrophes() -> None:
    assert cues.folded("Ça NE m\u2019aide  PAS, ÉTÉ") == " ca ne m'aide pas, ete "


@pytest.mark.parametrize(("text", "cue"), [
    ("I'm going to sue you", "legal"), ("hablaré con mi abogado", "legal"),
    ("Je vais saisir un avocat", "legal"), ("Ich schalte meinen Anwalt ein", "legal"),
    ("vou procurar um advogado", "legal"),
    ("I'll complain to the attorney general", "regulator"),
    ("Voy a poner una reclamación en consumo", "regulator"),
    ("plainte à la DGCCRF", "regulator"), ("ab zur Verbraucherzentrale", "regulator"),
    ("vou no Procon", "regulator"),
    ("my account was hacked", "security"), ("me han hackeado", "security"),
    ("compte piraté", "security"), ("Konto gehackt", "security"), ("conta invadida", "security"),
    ("this is theft", "abuse"), ("sois unos estafadores", "abuse"), ("bande d'escrocs", "abuse"),
    ("Abzocker!", "abuse"), ("golpistas", "abuse"),
    ("that doesn't help", "not_helped"), ("eso no me ayuda", "not_helped"),
    ("ça ne m'aide pas", "not_helped"), ("das hilft mir nicht", "not_helped"),
    ("isso não ajuda", "not_helped"),
])
def test_cues_in_five_languages(text: str, cue: str) -> None:
    assert cue in cues.found(text)


def test_stems_start_words_and_short_ones_end_them() -> None:
    assert "legal" not in cues.found("suede shoes")  # "sue " must end a word
    assert "legal" in cues.found("I will sue.")
    assert "regulator" not in cues.found("the ocurrence")  # "ocu" is a word of its own
    assert "abuse" in cues.found("scammers!")  # "scam" starts the word


def test_mild_irritation_sarcasm_and_polite_complaints_match_no_trigger() -> None:
    triggers = {"legal", "regulator", "security", "abuse", "exasperation", "urgency", "churn"}
    for text in ("Oh great, the search is broken again.", "It's not acceptable, please fix it.",
                 "I'd like to make a formal complaint about the courier.",
                 "Our legal team has to review the contract before we buy.",
                 "¿Cuánto cuesta el plan anual?", "Danke, hat geklappt!"):
        assert not cues.found(text) & triggers, text


def test_shouting_needs_mostly_capitals_in_a_long_enough_message() -> None:
    assert cues.shouting("WHERE IS MY REFUND, THIS IS THE THIRD TIME")
    assert not cues.shouting("OK")  # too short to tell
    assert not cues.shouting("I need the VAT ID and the PDF invoice")


def test_topic_and_account_teams() -> None:
    assert cues.topic_team(cues.found("the courier threw my parcel")) == "general"
    assert cues.topic_team(cues.found("your invoices are always wrong")) == "billing"
    assert cues.topic_team(cues.found("the app update broke everything")) == "technical"
    assert cues.topic_team(cues.found("I am unhappy")) is None
    assert cues.account_team(cues.found("I can't log in")) == "technical"
    assert cues.account_team(cues.found("update the credit card on file")) == "billing"
    assert cues.account_team(cues.found("change my phone number")) == "general"


@pytest.mark.parametrize(("text", "team"), [
    ("the 4G signal at my office keeps dropping", "technical"),
    ("la cobertura en el pueblo es malísima", "technical"),
    ("le réseau coupe tout le temps", "technical"),
    ("der Empfang im Keller ist miserabel", "technical"),
    ("o sinal do celular cai toda hora", "technical"),
    ("your sales rep never sent the demo link", "sales"),
    ("quiero hablar con alguien de ventas", "sales"),
    ("un devis pour dix postes", "sales"),
    ("der Vertrieb meldet sich nicht", "sales"),
    ("um orçamento para a loja", "sales"),
    ("I keep getting your promotional mailings", "general"),
    ("mais um e-mail de promoção", "general"),
])
def test_the_network_the_sales_team_and_mailings_name_their_team(text: str, team: str) -> None:
    assert cues.topic_team(cues.found(text)) == team


@pytest.mark.parametrize(("text", "team"), [
    ("I want an agent, it's about a charge on my invoice", "billing"),
    ("pásame con un agente, es por un cargo de la factura", "billing"),
    ("un conseiller svp, mon appli plante", "technical"),
    ("einen Mitarbeiter bitte, wegen meiner Rechnung", "billing"),
    ("quero um atendente, é sobre o erro no aplicativo", "technical"),
])
def test_a_request_for_a_person_goes_to_the_topic_it_names(text: str, team: str) -> None:
    found = cues.found(text)
    assert cues.topic_team(found, asked_for_person=True) == team


def test_a_complaint_about_staff_stays_general() -> None:
    found = cues.found("the agent was rude about my invoice")
    assert cues.topic_team(found) == "general"


@pytest.mark.parametrize("text", [
    "I clicked the link to reset my password but it had expired",
    "Ich habe diese Farbe nie bestellt, bitte umtauschen",
    "a nota fiscal tem que sair em nome da empresa",
    "el envío era supuestamente de 24 horas",
    "Sind das gefälschte Produkte? Die Naht ist schief.",
    "Someone has access to our shared folder but cannot edit it",
    "Jemand hat mein Paket beim Nachbarn abgegeben",
])
def test_ordinary_links_orders_and_names_are_no_security_incident(text: str) -> None:
    assert "security" not in cues.found(text)


@pytest.mark.parametrize("text", [
    "el cargo excede el límite de la tarjeta",
    "o valor excede o limite do plano",
    "ich kann nicht mehr auf mein Konto zugreifen",
])
def test_words_of_another_language_or_meaning_are_no_exasperation(text: str) -> None:
    assert "exasperation" not in cues.found(text)


def test_the_end_of_ones_patience_in_french() -> None:
    assert "exasperation" in cues.found("je suis vraiment excédée")
    assert "exasperation" in cues.found("Je suis excédé par ce service")
