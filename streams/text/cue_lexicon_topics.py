"""The word stems of the topic cues of ``streams.text.cues``, in en, es, fr, de and pt: data
only, in the form of ``streams.text.cue_lexicon`` (lower case, accent-folded, matched at word
starts; a stem of three letters or fewer, or one ending in a space, ends a word).

A topic names the team of a complaint or of a request for a person (``cues.topic_team``:
the guide's "team of the underlying topic"), and of an account question (``account_team``:
login and security to technical, the payment method or bank account on file to billing).
"""

from __future__ import annotations

from typing import Final

STEMS: Final[dict[str, tuple[str, ...]]] = {
    # account → technical: login, password, 2FA, lockout, hacked account
    "account_security": (
        "log in", "login", "log on", "sign in", "password", "2fa", "two-factor", "locked",
        "lockout", "hacked", "access", "verification code", "iniciar sesion", "contrasena",
        "entrar", "bloquead", "acceder", "mot de passe", "connecter", "connexion", "bloque",
        "code de verification", "anmelden", "einloggen", "passwort", "gesperrt", "zugang",
        "komme nicht", "senha", "login", "acessar", "codigo", "invadid", "piratee",
        "pirate", "gehackt", "hackead",
        # two-step sign-in by its names in each language (LABELS.md: 2FA is technical)
        "two factor", "authenticat", "otp", "doble factor", "dos factores", "autentica",
        "authentifi", "zwei-faktor", "zwei faktor", "2-faktor", "bestatigungscode",
        "anmeldung", "dois fatores", "dois factores"),
    # account → billing: payment method or billing contact on file
    "account_payment": (
        "credit card", "card on file", "payment method", "billing contact", "billing email",
        "billing address", "tarjeta", "metodo de pago", "contacto de facturacion",
        "carte bancaire", "moyen de paiement", "contact de facturation", "kreditkarte",
        "zahlungsmethode", "zahlungsart", "hinterlegte karte", "rechnungskontakt",
        "cartao", "forma de pagamento", "contato de cobranca", "meio de pagamento",
        "contacto de faturacao", "contato de faturamento", "rechnungsempf",
        # the bank account debits are taken from
        "iban", "direct debit", "bank account", "domiciliacion", "cuenta bancaria",
        "compte bancaire", "rib ", "bankverbindung", "lastschrift", "bankkonto", "sepa",
        "debito direto", "conta bancaria", "nib ",
        # the payment card on the account by its other names
        "debit card", "bank card", "payment card", "card ending", "card registered",
        "card details", "cb ", "carte enregistree", "carte de paiement", "girokarte",
        "ec-karte", "bankkarte", "debitkarte"),
    # complaint → general: support staff, wait times, delivery, marketing emails, the bot
    "general_topic": (
        "agent", "staff", "rude", "support", "on hold", "wait", "phone", "courier",
        "delivery", "parcel", "package", "arrived", "marketing email", "emails", "newsletter",
        "the bot", "chatbot", "answer", "repartidor", "paquete", "envio", "espera",
        "atencion al cliente", "correos", "publicidad", "pedido", "livreur", "colis",
        "livraison", "attente", "service client", "publicite", "paketbote", "paket",
        "lieferung", "warte", "kundenservice", "werbung", "antwort", "entregador",
        "entrega", "espera", "atendimento", "propaganda", "pedido", "chegou", "e-mails",
        # promotional mailings, in other words
        "promotional", "promo email", "mailing", "promocion", "publicitari", "promotion",
        "werbemail", "werbe-mail", "promocao", "publicidade",
        # staff by their roles, and how someone behaved
        "employee", "cashier", "driver", "conductor", "inspector", "behaviour", "behavior",
        "empleado", "cajer", "conductor", "revisor", "comportamiento", "employe", "caissier",
        "caissiere", "chauffeur", "controleur", "comportement", "angestellt", "kassierer",
        "fahrer", "kontrolleur", "verhalten", "funcionari", "caixa", "motorista", "revisor",
        "comportamento",
        # the front desk ("reception" alone is the signal: "receptionist" was read as it)
        "receptionist", "recepcionista", "receptionniste", "rezeptionist"),
    "billing_topic": (
        "invoice", "bill", "charge", "payment", "refund", "factura", "cobr", "cargo",
        "reembolso", "facture", "prelev", "paiement", "rembours", "rechnung", "abbuch",
        "zahlung", "erstatt", "fatura", "cobranca", "pagamento", "reembolso", "estorno",
        # the bill and the accounts team by their other names
        "accounts team", "accounts department", "outstanding balance", "recibo",
        "comision", "contabilidad", "comptabilit", "abrechnung", "buchhaltung",
        "contabilidade", "mensalidade"),
    "technical_topic": (
        "app", "update", "bug", "crash", "error", "website", "version", "software", "login",
        "aplicacion", "actualizacion", "error", "fallo", "version", "appli", "mise a jour",
        "erreur", "logiciel", "absturz", "fehler", "aktualisierung", "aplicativo",
        "atualizacao", "erro", "sistema", "versao", "technician", "tecnico", "technicien",
        "techniker", "sync", "synchro",
        # how a service fails: unreliable, down, freezing, buffering
        "reliab", "unreliab", "buffer", "freez", "gone down", "congela", "se cuelga",
        "se cae", "fiabilit", "se fige", "plante", "friert", "zuverlassig", "trava ", "travando",
        "instab",
        # the network and the connection, and the technical team by name
        "network", "signal", "coverage", "reception ", "outage", "broadband", "wifi", "internet",
        "technical team", "tech support", "technical support", "cobertura", "red movil",
        "senal", "soporte tecnico", "reseau", "couverture", "support technique", "mobilfunk",
        "netz", "empfang", "wlan", "technischen support", "sinal", "rede movel",
        # Portuguese "rede" (the network) with its article: alone it is German "ich rede"
        "a rede ", "da rede", "na rede", "sem rede",
        "suporte tecnico",
        # the devices of a connection ("fibre" alone is as often bought), and the technical
        # service by its other names
        "router", "routeur", "roteador", "modem", "tech support", "decoder", "decodeur",
        "decodificador", "descodificador", "set-top",
        "service technique", "servicio tecnico", "technischer dienst", "assistencia tecnica"),
    # "caro " and "cher " end a word: "Caron", "chercher"
    "sales_topic": ("price", "expensive", "quote", "precio", "caro ", "prix", "cher ", "chere",
                    "chers", "preis", "teuer", "preco",
                    # the sales team by name, and what it sells: demos, quotes
                    "sales", "demo", "ventas", "comercial", "presupuesto", "commercial", "devis",
                    "vertrieb", "angebot", "orcamento",
                    # list prices and tariffs, buying and licences
                    "listenpreis", "tarif", "licen", "lizenz", "buy more", "purchase",
                    "comprar mas", "acheter", "kaufen", "comprar mais"),
    "retention_topic": ("cancel", "baja", "resili", "kundig", "cancelar", "cancelamento",
                        # ending or not renewing a contract in other words
                        "end my contract", "ending my contract", "terminat", "not renew",
                        "ending my", "stop my", "close my account",
                        "rescindir", "no renovar", "fin de mon contrat", "ne pas renouveler",
                        "ne pas reconduire", "vertrag beenden", "nicht verlangern", "rescisao",
                        "rescindir", "nao renovar", "encerrar o contrato"),
}
