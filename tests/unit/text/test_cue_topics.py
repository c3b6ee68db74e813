"""The topic a complaint, a request for a person or an account question names decides its team
(LABELS.md): the devices of a connection and the technical service by other names, list
prices, tariffs and licences, ending a contract in other words, staff by their roles, and the
bank account debits are taken from, in five languages; short stems end a word."""

from __future__ import annotations

import pytest

from streams.text.cues import account_team, found, topic_team


@pytest.mark.parametrize(("text", "team"), [
    ("Can someone call me? My modem keeps dropping.", "technical"),
    ("¿Me pasáis con alguien? El router no enciende.", "technical"),
    ("Je veux parler au service technique, le routeur clignote.", "technical"),
    ("Bitte verbinden Sie mich mit dem technischen Dienst, das Modem ist tot.", "technical"),
    ("Quero falar com a assistência técnica, o roteador não liga.", "technical"),
    ("I want a person to talk about ending my contract.", "retention"),
    ("Quiero hablar con alguien para no renovar el contrato.", "retention"),
    ("Je voudrais parler à quelqu'un pour ne pas reconduire mon contrat.", "retention"),
    ("Ich möchte mit jemandem sprechen, um den Vertrag zu beenden, also Vertrag beenden.",
     "retention"),
    ("Quero falar com alguém para não renovar o contrato.", "retention"),
    ("Put me through to someone, it's about buying more licences.", "sales"),
    ("Pásame con alguien, es para comprar más licencias.", "sales"),
    ("Passez-moi quelqu'un, c'est pour acheter des licences.", "sales"),
    ("Verbinden Sie mich, es geht um Lizenzen.", "sales"),
    ("Passe-me a alguém, é para comprar mais licenças.", "sales"),
])
def test_a_request_for_a_person_goes_to_the_topic_it_names(text: str, team: str) -> None:
    assert topic_team(found(text), asked_for_person=True) == team


@pytest.mark.parametrize("text", [
    "The driver was rude to my mother.", "El conductor fue muy grosero con mi madre.",
    "Le comportement du contrôleur était inacceptable.",
    "Das Verhalten des Kassierers war unmöglich.", "O motorista foi mal-educado.",
])
def test_a_complaint_about_staff_by_their_role_goes_to_general(text: str) -> None:
    assert topic_team(found(text)) == "general"


@pytest.mark.parametrize(("text", "sales"), [
    ("C'est beaucoup trop cher.", True), ("Your list prices went up again.", True),
    ("Signé : Sophie Caron", False), ("Je cherche mon colis.", False),
    ("Die Listenpreise sind schon wieder gestiegen.", True), ("Es muy caro.", True),
])
def test_short_price_stems_end_a_word(text: str, sales: bool) -> None:
    assert ("sales_topic" in found(text)) is sales


@pytest.mark.parametrize("text", [
    "I need to update the IBAN for the direct debit.",
    "Tengo que cambiar la cuenta bancaria de la domiciliación.",
    "Je dois changer le RIB pour les prélèvements.",
    "Bitte ändern Sie die Bankverbindung für die Lastschrift.",
    "Preciso de mudar a conta bancária do débito direto.",
])
def test_the_bank_account_on_file_is_billing(text: str) -> None:
    assert account_team(found(text)) == "billing"


@pytest.mark.parametrize("text", [
    "My authenticator app was on the old phone, how do I get the sign-in codes now?",
    "No me llegan los códigos de la autenticación en dos pasos.",
    "Je n'ai plus accès à l'appli d'authentification depuis que j'ai changé de téléphone.",
    "Die Zwei-Faktor-Anmeldung schickt mir keine Codes mehr.",
    "Troquei de telemóvel e perdi a autenticação de dois fatores.",
])
def test_two_step_sign_in_is_technical(text: str) -> None:
    # LABELS.md: an account question about login, password or 2FA goes to technical
    assert account_team(found(text)) == "technical"


@pytest.mark.parametrize(("text", "team"), [
    ("Can I speak to someone about ending my broadband?", "retention"),
    ("Quiero hablar con alguien para cancelar la fibra.", "retention"),
    ("Je veux parler à quelqu'un pour résilier ma box internet.", "retention"),
    ("Ich möchte mit jemandem über die Kündigung meines Internetvertrags sprechen.",
     "retention"),
    ("Quero falar com alguém para cancelar a internet.", "retention"),
    ("Can a person help? The decoder won't turn on.", "technical"),
    ("¿Me atiende una persona? El decodificador no enciende.", "technical"),
    ("Je veux parler à quelqu'un, le décodeur ne s'allume plus.", "technical"),
    ("Kann mir ein Mensch helfen? Der Decoder geht nicht an.", "technical"),
    ("Posso falar com alguém? O descodificador não liga.", "technical"),
])
def test_a_person_asked_for_about_ending_a_service_is_for_retention(text: str,
                                                                     team: str) -> None:
    assert topic_team(found(text), asked_for_person=True) == team


@pytest.mark.parametrize("text", [
    "Please swap the debit card on my membership, the old one has expired.",
    "I need to replace the card ending 1234 that pays for my plan.",
    "Je voudrais changer la CB qui paie mon abonnement.",
    "Wie tausche ich die Girokarte für die Abbuchung aus?",
])
def test_the_payment_card_on_the_account_is_billing(text: str) -> None:
    assert account_team(found(text)) == "billing"


def test_a_german_verb_is_not_the_portuguese_network() -> None:
    # "rede" is the network in Portuguese and "I talk" in German: only its Portuguese
    # phrases are the network
    assert "technical_topic" not in found("Ich rede nicht mehr mit Ihnen, holen Sie jemanden.")
    assert "technical_topic" in found("Estou sem rede no telemóvel desde ontem.")
    assert "technical_topic" in found("A rede caiu outra vez.")


@pytest.mark.parametrize("text", [
    "Could someone in your accounts team call me about the outstanding balance?",
    "Que me llame alguien, no entiendo el recibo de la comunidad.",
    "J'aimerais parler à quelqu'un de la comptabilité au sujet de mon échéancier.",
    "Bitte ruft mich jemand aus der Buchhaltung wegen der Jahresabrechnung an.",
    "Quero falar com alguém da contabilidade sobre a mensalidade de março.",
])
def test_a_person_asked_for_about_the_bill_is_for_billing(text: str) -> None:
    assert topic_team(found(text), asked_for_person=True) == "billing"


def test_the_front_desk_is_staff_and_the_reception_of_a_phone_is_the_network() -> None:
    # "receptionist" begins like "reception" (the signal): the person is general
    assert topic_team(found("The receptionist was rude to my father.")) == "general"
    assert topic_team(found("La recepcionista nos habló fatal.")) == "general"
    assert topic_team(found("Mobile reception in the village is awful.")) == "technical"


@pytest.mark.parametrize("text", [
    "Your streaming service has become so unreliable, it keeps buffering every evening.",
    "La plataforma se cuelga cada dos por tres, qué desastre de servicio.",
    "Franchement déçue, l'image se fige à chaque match depuis des semaines.",
    "Ihr Dienst ist einfach nicht mehr zuverlässig, das Bild friert ständig ein.",
    "O serviço anda péssimo, o vídeo trava a meio de todos os episódios.",
])
def test_a_complaint_about_a_service_that_fails_goes_to_technical(text: str) -> None:
    assert topic_team(found(text)) == "technical"


def test_work_is_not_a_freeze() -> None:
    # Portuguese "trava" (it freezes) ends a word: French "travail" is no fault
    assert "technical_topic" not in found("Je loue chez vous pour le travail depuis des années.")
