"""Security incidents (LABELS.md rule 6, ``policy_topic``) in wordings without "hacked" or
"fraud", five languages: someone said to be from the company or the bank, an access to the
account told in the passive or as a guess, a payout to a bank account or a line on a device
that is not the customer's, a SIM taken over; and the ordinary cases that stay none (a login
the customer cannot make, money that came in, a bank account changed by the customer)."""

from __future__ import annotations

import pytest

from streams.text.cues import found

INCIDENTS = [
    # someone said to be from the company or the bank
    "A man rang me, said he was from your fraud team and asked for the code you texted me.",
    "Una señora que decía ser de la compañía me pidió el código que me llegó al móvil.",
    "Un monsieur qui disait être de votre service m'a demandé le code reçu par SMS.",
    "Jemand gab sich als Mitarbeiter Ihrer Firma aus und wollte meinen Bestätigungscode.",
    "Um rapaz dizendo ser do vosso apoio pediu-me o código que recebi por SMS.",
    # an access told in the passive or as a guess
    "The alert says my profile was accessed from a laptop in another city last night.",
    "Me avisan de que accedieron a mi cuenta ayer de madrugada desde otra ciudad.",
    "Je pense que quelqu'un a pu entrer, mes préférences ont toutes changé cette nuit.",
    "Laut Benachrichtigung wurde gestern Nacht auf mein Konto zugegriffen, das war ich nicht.",
    "Recebi um aviso de que acessaram minha conta de madrugada a partir de outra cidade.",
    # a payout or a line on something that is not the customer's
    "My refund went to a bank account that is not my own.",
    "El reembolso ha ido a una cuenta bancaria que no es la mía.",
    "Le virement est parti sur un compte bancaire qui n'est pas le mien.",
    "Die Auszahlung ging auf ein Bankkonto, das nicht meins ist.",
    "A minha linha aparece ativa num aparelho que não é o meu.",
    # a SIM or line taken over
    "Since this morning I have no signal and I think someone cloned my SIM.",
]


@pytest.mark.parametrize("text", INCIDENTS)
def test_a_security_incident_in_other_words(text: str) -> None:
    assert "security" in found(text)


@pytest.mark.parametrize("text", [
    "Je n'arrive pas à entrer dans mon compte, le mot de passe est refusé.",
    "O dinheiro da devolução já entrou na minha conta, obrigado.",
    "El dinero ha entrado en mi cuenta bancaria, gracias.",
    "I changed my bank account last month, where do I update it?",
    "Ich habe ein neues Bankkonto und möchte die Lastschrift ändern.",
    "The new phone arrived and my number works on it, thanks.",
])
def test_ordinary_account_messages_stay_none(text: str) -> None:
    assert "security" not in found(text)
