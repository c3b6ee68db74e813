"""The word stems and phrases of each cue of ``streams.text.cues``, in en, es, fr, de and pt:
data only. Stems are lower case and accent-folded (``cues.folded``: German sharp s as "ss"),
matched at word starts; a stem of three letters or fewer, or one ending in a space, must end
a word. Each cue names what the label guide (``LABELS.md``) names, narrowly: mild irritation,
sarcasm and polite complaints match no trigger.
"""

from __future__ import annotations

from typing import Final

STEMS: Final[dict[str, tuple[str, ...]]] = {
    # rule 2: legal threats
    "legal": (
        "lawyer", "attorney", "sue ", "suing", "legal action", "take you to court", "court",
        "small claims", "abogad", "demandar", "accion legal", "acciones legales", "juicio",
        "avocat", "action en justice", "poursuivre", "poursuites", "tribunal",
        "anwalt", "anwaltin", "verklagen", "rechtliche schritte", "klage ", "vor gericht",
        "advogad", "processar", "acao judicial", "justica",
        "file a claim", "police report", "denuncia", "denunciar", "demanda judicial",
        "porter plainte", "deposer plainte", "plainte contre", "strafanzeige",
        "anzeige erstatten", "gerichtlich", "processo contra", "abro processo",
        "entrar na justica", "boletim de ocorrencia",
        # a legal representative named in other words (UK English, the courts)
        "solicitor", "letter before action", "juzgado", "mon avocat", "huissier",
        "mahnverfahren", "juizado"),
    # rule 2: regulators and consumer bodies
    "regulator": (
        "consumer protection", "attorney general", "trading standards", "ombudsman",
        "better business bureau", "bbb", "ftc", "data protection authority", "ico ",
        "regulator", "cfpb", "oficina del consumidor", "en consumo", "a consumo", "ocu", "facua",
        "proteccion de datos", "aepd", "defensor del", "dgccrf", "cnil", "ufc",
        "associations de consommateurs", "mediateur", "protection des consommateurs",
        "verbraucherzentrale", "verbraucherschutz", "datenschutzbehorde",
        "bundesnetzagentur", "schlichtungsstelle", "procon", "reclame aqui", "anpd",
        "consumidor.gov", "defesa do consumidor", "anatel", "ouvidoria",
        # consumer offices, complaint books, ombudsmen and the data-protection and sector
        # authorities by their other names
        "oficina de consumo", "oficina municipal", "hoja de reclamaciones", "arbitraje de consumo",
        "junta arbitral", "information commissioner", "ofcom", "fcc ", "state attorney",
        "signalconso", "signal conso", "arcep", "datenschutzbeauftragt", "landesdatenschutz",
        "datenschutzaufsicht", "aufsichtsbehorde", "bafin", "livro de reclamacoes",
        "banco central", "cnpd", "anacom"),
    # rule 6 and policy_topic: security incidents and fraud
    "security": (
        "hacked", "hacker", "compromised", "unauthori", "someone got into", "someone logged",
        "phishing", "fraud", "stolen account", "identity theft", "logins from",
        "hackead", "pirate", "robado la cuenta", "me la han robado", "suplantacion",
        "taken over", "didn't request", "did not request", "wasn't me", "suspicious login",
        "suspicious sign", "someone else logged", "someone has logged", "someone accessed",
        "alguien ha entrado", "alguien entro", "alguien ha accedido", "sospechos",
        "quelqu'un s'est connecte", "connexion suspecte", "activite suspecte", "verdachtig",
        "jemand hat sich", "fremde anmeldung", "alguem entrou", "alguem acessou", "suspeit",
        "fraude", "acceso no autorizado", "pirat", "usurpation", "acces non autorise",
        # "betrug" alone is as often "amounted to" (die Wartezeit betrug 40 Minuten)
        "gehackt", "ist betrug", "auf betrug", "wegen betrug", "betrugsversuch", "betrugsfall",
        "betrugsmasche", "betrugerisch", "unbefugt", "fremdzugriff", "invadid", "acesso nao autorizado",
        "clonad",
        # an account change or access the customer did not make: "without my permission",
        # "I never requested" (an unrecognised charge alone is billing, not security)
        "without my permission", "without my consent", "without asking me", "never requested",
        "never asked for", "sin mi permiso", "sin mi autorizacion", "sin pedirlo",
        "que no he pedido", "que no pedi", "que no he solicitado", "sans mon accord",
        "sans mon autorisation", "sans que je", "que je n'ai pas demande",
        "ohne meine zustimmung", "ohne meine erlaubnis", "nicht angefordert",
        "nicht beantragt", "nicht von mir", "sem eu pedir", "sem minha autorizacao",
        "sem autorizacao", "que nao pedi", "que eu nao pedi", "nao fui eu",
        # someone else in the account, told without the word "hacked" (the account named:
        # "someone has access" alone may be a shared drive)
        "never placed", "didn't place", "did not place", "i didn't do that",
        "i did not do that", "someone is in my account", "someone is using my account",
        "someone else is using", "someone has access to my", "someone changed my password",
        "someone changed my email", "someone changed my details", "someone changed my address",
        "no he sido yo", "no fui yo", "alguien esta usando mi cuenta",
        "alguien tiene acceso a mi", "alguien ha cambiado mi", "ce n'est pas moi",
        "quelqu'un utilise mon compte", "quelqu'un a acces a mon", "quelqu'un a modifie mon",
        "quelqu'un a change mon", "war ich nicht", "jemand nutzt mein konto",
        "jemand hat zugriff auf mein", "jemand hat mein passwort", "jemand hat meine daten",
        "alguem esta usando minha conta", "alguem tem acesso a minha",
        "alguem tem acesso na minha", "alguem mudou minha", "alguem mudou meu",
        "nunca fiz esse", "nunca fiz esses",
        # "it wasn't me" in the other word order of each language
        "yo no he sido", "yo no fui", "no lo he hecho yo", "ce n'etait pas moi",
        "je n'ai rien fait de tel", "das war ich nicht", "ich war das nicht",
        "ich war es nicht", "eu nao fiz isso", "nao fui eu que", "that wasn't me",
        "that was not me", "i never made", "i did not make that", "i didn't make that",
        # phishing: someone posing as the company (a link clicked or a password typed alone
        # is an ordinary how-to or fault)
        "pretending to be", "claiming to be from", "supposedly from you", "fake text",
        "fake email", "fake sms", "gave my password", "haciendose pasar por",
        "supuestamente de vosotros", "supuestamente de ustedes", "sms falso", "correo falso",
        "se faisant passer pour", "soi-disant de votre part", "soi-disant de chez vous",
        "faux sms", "faux mail", "faux message", "angeblich von ihnen", "in ihrem namen",
        "gefalschte mail", "gefalschte e-mail", "gefalschte sms", "gefalschte nachricht",
        "gibt sich als", "se passando por", "supostamente de voces", "em nome de voces",
        "sms falso", "email falso",
        # ... or using its logo or name on a message that asks for money or details
        "with your logo", "using your logo", "with your name on", "emails falsos",
        "e-mails falsos", "correos falsos", "mensajes falsos", "mensagens falsas",
        "faux e-mails", "faux mails", "gefalschte e-mails", "en vuestro nombre",
        "en votre nom", "em vosso nome",
        "con vuestro logo", "con vuestro logotipo", "con su logo", "con el logo de",
        "avec votre logo", "avec le logo de", "a votre nom", "mit ihrem logo",
        "mit dem logo von", "unter ihrem namen", "com o vosso logo", "com o seu logo",
        "com o logo de", "com o logotipo de", "com o vosso nome",
        # ... or said to be from it ("who said he was from the bank")
        "said he was from", "said she was from", "said they were from", "claimed to be",
        "posing as", "decia ser", "dijo ser", "diciendo ser", "se hizo pasar",
        "qui disait etre", "disant etre", "pretendant etre", "se disait de",
        "gab sich als", "sich als mitarbeiter", "angeblich von der", "angeblich vom",
        "dizendo ser", "que dizia ser", "disse ser", "fingindo ser", "se fez passar",
        # an access told in the passive, from somewhere or something the customer names
        "was accessed from", "been accessed from", "accessed from a new",
        # (someone else's access only: "I can't get into my account" is a login problem,
        # and money "came into my account" is none)
        "accedieron a mi cuenta", "han accedido a mi cuenta", "quelqu'un est entre",
        "quelqu'un a pu entrer", "quelqu'un a du entrer", "accede a mon compte",
        "in mein konto eingeloggt", "auf mein konto zugegriffen", "acessaram minha conta",
        "acessaram a minha conta",
        # a phone line or SIM taken over
        "clonaram", "clonaron", "cloned my", "sim swap", "ont clone", "geklont"),
    # someone else in the account told as something the customer does not recognise or
    # never invited ("unrecognised") next to a way into the account ("access_point"): both in
    # one message (a charge one does not recognise is billing; an unknown error is a fault)
    "unrecognised": (
        "don't recognise", "don't recognize", "do not recognise", "do not recognize",
        "didn't recognise", "didn't recognize", "i don't know who", "nobody invited",
        "no one invited", "nobody added", "no one added", "didn't invite", "did not invite",
        "never invited", "never added", "que no reconozco", "que no conozco",
        "no reconozco", "nadie invito", "nadie ha invitado", "nadie anadio", "nunca invite",
        "que je ne reconnais pas", "que je ne connais pas", "je ne reconnais pas",
        "n'a invite", "n'a ajoute", "jamais invite", "jamais ajoute", "ich nicht kenne",
        "ich nicht erkenne", "erkenne ich nicht", "kenne ich nicht", "niemand eingeladen",
        "niemand hinzugefugt", "nie eingeladen", "que nao conheco", "que nao reconheco",
        "nao reconheco", "ninguem convidou", "ninguem adicionou", "nunca convidei",
        # ... or says is not theirs
        "never owned", "isn't mine", "is not mine", "no es mio", "no es mia", "nunca he tenido",
        "n'est pas a moi", "ne m'appartient pas", "jamais eu", "gehort mir nicht",
        "nie besessen", "nao e meu", "nao e minha", "nunca tive",
        "not my own", "no es el mio", "no es la mia", "pas le mien", "pas la mienne",
        "nicht meins", "nicht meine", "nao e o meu", "nao e a minha"),
    "access_point": (
        "login", "log-in", "logged in", "sign-in", "signed in", "device", "session",
        "password", "recovery", "email address", "e-mail address", "admin", "user",
        "inicio de sesion", "acceso", "dispositivo", "sesion", "contrasena", "correo",
        "administrador", "usuario", "connexion", "connecte", "appareil", "mot de passe",
        "adresse e-mail", "adresse mail", "adresse email", "administrateur", "utilisateur",
        "anmeldung", "angemeldet", "gerat", "sitzung", "passwort", "e-mail-adresse",
        "mailadresse", "administrator", "benutzer", "nutzer", "acesso", "sessao", "senha",
        "email da conta", "e-mail da conta", "endereco de email", "endereco de e-mail",
        "utilizador", "usuario",
        # ... or where its money goes (a payout to a bank account that is not the customer's)
        "aparelho", "telemovel", "iban", "bank account", "cuenta bancaria", "compte bancaire",
        "bankkonto", "conta bancaria"),
    # phishing: card or bank details handed over through a link (with ``link_followed`` in
    # the same message; a password alone is the ordinary reset flow)
    "card_details": (
        "card details", "card number", "bank details", "my pin", "security code",
        "datos de mi tarjeta", "datos de la tarjeta", "numero de tarjeta", "datos bancarios",
        "coordonnees bancaires", "numero de carte", "donnees bancaires", "code pin",
        "kartendaten", "kreditkartendaten", "kartennummer", "bankdaten", "meine pin",
        "dados do cartao", "numero do cartao", "dados bancarios", "meu pin", "codigo pin"),
    "link_followed": (
        "clicked the link", "clicked on the link", "clicked a link", "clicked on a link",
        "opened the link", "followed the link", "pinche en el enlace", "pinche el enlace",
        "hice clic en el enlace", "abri el enlace", "entre en el enlace",
        "clique sur le lien", "ouvert le lien", "suivi le lien", "auf den link geklickt",
        "link geklickt", "link angeklickt", "link geoffnet", "link in der sms",
        "link in der mail", "link in der e-mail", "link in der nachricht", "link aus der", "cliquei no link",
        "cliquei em um link", "cliquei num link", "abri o link", "carreguei no link"),
    # rule 3: insults and accusations
    "abuse": (
        "garbage", "trash", "theft", "thieves", "scam", "rip off", "ripoff", "disgrace",
        "disgusting", "pathetic", "incompetent", "crooks", "liars", "useless", "joke of",
        "basura", "robo", "ladron", "estafa", "timo", "verguenza", "chapuza", "inutiles",
        "mentiros", "vol ", "voleur", "arnaque", "escroc", "honte", "scandal", "lamentable",
        "minable", "inadmissible", "nul ", "ist betrug", "betruger", "abzock", "schrott",
        "unverschamt", "frechheit", "saftladen", "diebstahl", "lugner", "roubo", "ladr",
        "golpista", "vergonha", "porcaria", "lixo", "palhacada",
        # accusations and contempt in other words
        "criminal", "shameless", "daylight robbery", "con artist", "shambles", "appalling",
        "worst service", "you people", "cowboys", "sinverguenza", "tomando el pelo",
        "cachondeo", "vergonzos", "indignante", "impresentable", "vous vous moquez",
        "foutez", "foutage", "catastrophique", "n'importe quoi", "verarsch", "zumutung",
        "skandal", "katastroph", "sacanagem", "descaso", "desrespeito", "roubalheira",
        "picareta", "enganacao",
        # robbery, usury and incompetence by their other words
        "assalto", "atraco", "wucher", "unfahig", "inkompetent",
        "swindl", "charlatan", "vigaris", "trapaceir"),
    # rule 3: exasperation (enough on its own)
    "exasperation": (
        "sick of", "fed up", "had enough", "done with you", "wasted my", "i give up",
        "harto", "harta", "hartos", "estoy cansad", "me tienen cansad", "marre", "ras le bol",
        "j'en peux plus", "reicht es", "reicht mir", "die nase voll", "es reicht",
        "estou cansad", "cansei", "to cansad", "nao aguento",
        # at the end of one's patience or tether
        "end of my patience", "wit's end", "wits end", "end of my tether", "end of my rope",
        "can't take this anymore", "can't take it anymore", "lost my patience",
        "losing my patience", "j'en ai assez", "a bout", "bout de ma patience", "exaspere",
        # French "excede" only after "suis" or an adverb: in es/pt "excede" is "exceeds";
        # German "ich kann nicht mehr" is as often "I can no longer log in"
        "suis excede", "vraiment excede", "completement excede", "excedee",
        "mit meinem latein am ende", "am ende meiner geduld", "geduld ist am ende",
        "no puedo mas", "se me acaba la paciencia",
        "he perdido la paciencia", "estoy hasta las narices", "perdi a paciencia",
        "minha paciencia", "farto", "farta", "nao aguento mais",
        # a warning given in anger
        "don't you dare", "ni se os ocurra", "ni se le ocurra", "ne vous avisez pas",
        "wagen sie es nicht", "wagt es nicht", "nem se atrevam", "nem pensem em"),
    # rule 3: repeated failed attempts (with a negative tone or another cue)
    "repeated": (
        "third time", "fourth time", "fifth time", "again and again", "times already",
        "twice already", "three times", "still broken", "every time", "tercera vez",
        "tres veces", "otra vez", "ya lo he", "sigue igual", "sigue fallando",
        "quatrieme fois", "troisieme fois", "trois fois", "quatre fois", "deja fait",
        "toujours pareil", "encore une", "dreimal", "schon wieder", "zum dritten", "x-ten",
        "immer noch", "tres vezes", "terceira vez", "de novo", "ja fiz", "ja reinstalei",
        "mais uma"),
    # rule 3: business-critical urgency
    "urgency": (
        "business critical", "business-critical", "losing money", "losing sales",
        "whole team", "can't work", "cannot work", "production is down", "urgentisim",
        "perdiendo dinero", "perdiendo ventas", "sin sistema", "no podemos trabajar",
        "no podemos facturar", "perdons de l'argent", "equipe est bloquee",
        "sommes bloques", "paralyse", "geschaftskritisch", "steht still", "verlieren geld",
        "perdendo vendas", "perdendo dinheiro", "loja inteira parou", "fora do ar",
        "costs us", "customers can't", "customers cannot", "emergency", "clientes no pueden",
        "emergencia", "les clients ne peuvent", "urgence absolue", "kunden konnen nicht",
        "notfall", "clientes nao conseguem", "emergencia",
        # a whole business stopped
        "losing thousands", "whole business", "entire company", "all our stores",
        "empresa entera", "empresa parada", "todas las tiendas", "perdiendo miles",
        "hors service", "perd des milliers", "perdons des milliers", "toute l'entreprise",
        "stehen still", "komplett ausgefallen", "alle filialen", "verlieren tausende",
        "empresa inteira", "empresa parada", "perdendo milhares", "todas as lojas"),
    # rule 1 (besides the emotion detector): asking for a person, a call back
    "person": (
        "put me through", "a technician", "call me back", "someone call me", "real person",
        "human agent", "speak to someone", "talk to someone", "que me llame", "me llamen",
        "un tecnico", "hablar con una persona", "hablar con un agente", "pasame con",
        "rappelez-moi", "me rappeler", "un technicien", "conseiller humain", "parler a un",
        "zuruckrufen", "einen techniker", "verbinden sie mich", "mit einem mitarbeiter",
        "speak to someone from", "talk to someone from", "speak with someone from",
        "speak to your sales", "talk to your sales", "hablar con alguien de",
        "hablar con un asesor", "hablar con el departamento", "parler a quelqu'un",
        "parler au service", "mit jemandem aus", "mit jemandem sprechen", "mit einem berater",
        "falar com alguem", "falar com um assistente", "falar com um consultor",
        "falar com o departamento", "falar com o setor",
        "me ligue", "me liga", "falar com um atendente", "falar com atendente",
        "quero um atendente", "chamar um atendente", "falar com uma pessoa", "me passa pro",
        # a technician asked for, not one the message is about ("the technician was kind")
        "um tecnico", "send an engineer", "real technician", "vrai technicien",
        # a human by that word, a call or a call back asked in other forms
        "a human", "an actual human", "a real human", "contact me by phone",
        "contact me by telephone", "phone me", "ring me", "algun humano", "un humano",
        "una persona de verdad", "que me llamara", "que me llamase", "contacto telefonico",
        "pasar con un", "me pase con", "un humain", "une vraie personne", "etre rappele",
        "me rappelle", "parle a un", "parler avec un", "un de vos conseillers",
        "einen menschen", "mit einem menschen", "ruckruf", "mich anruft", "mich anrufen",
        "um humano", "uma pessoa de verdade", "uma pessoa real", "contato telefonico",
        "me ligar", "ligarem-me", "um gestor",
        # someone asked to get in touch (a role named alone, "the adviser I spoke to", is
        # what a message is about; "don't contact me" asks for the opposite, so no bare
        # "contact me")
        "get in touch with me", "someone to call", "en contacto conmigo", "contact avec moi",
        "me joindre", "mich kontaktier", "mich zu kontaktieren", "sich bei mir meld",
        "contacto comigo", "contato comigo", "me telefone",
        # a call or contact asked for in the formal forms of each language
        "appreciate a call", "like a call", "arrange a call", "request a call",
        "que me contacte", "que me contacten", "solicito una llamada", "etre contacte",
        "etre recontacte", "etre appele", "um einen anruf", "um kontaktaufnahme",
        "que me contactem", "solicito contacto", "solicito uma chamada"),
    # policy_topic: a data-protection request ...
    "data_request": (
        "gdpr", "personal data", "my data", "rgpd", "datos personales", "mis datos",
        "donnees personnelles", "mes donnees", "dsgvo", "personenbezogen", "meine daten",
        "lgpd", "dados pessoais", "meus dados"),
    # ... that is overdue
    "overdue": (
        "weeks ago", "month ago", "months ago", "still no", "still haven't", "no answer",
        "no response", "hace semanas", "hace un mes", "todavia", "sin respuesta",
        "il y a un mois", "toujours pas", "sans reponse", "seit wochen", "vor einem monat",
        "immer noch", "keine antwort", "ha semanas", "faz um mes", "ainda nao",
        "sem resposta",
        # nothing received yet, still waiting
        "received nothing", "haven't received anything", "have not received anything",
        "still waiting", "nothing yet", "no he recibido nada", "no recibi nada",
        "sigo esperando", "nada todavia", "je n'ai rien recu", "rien recu",
        "j'attends toujours", "toujours rien", "nichts erhalten", "nichts bekommen",
        "warte noch", "bis heute nichts", "nao recebi nada", "nada recebi",
        "continuo a espera", "continuo esperando", "ainda espero"),
    # ... or that persists: "still" said in a later message than the request (it counts only
    # then: "is it still possible to get my data?" asks, it does not chase)
    "persisting": (
        "still", "todavia", "sigue", "siguen", "sigo", "toujours", "encore", "immer noch",
        "noch immer", "weiterhin", "nach wie vor", "ainda", "continua", "continuam", "continuo"),
    # rule 4: cancellation threats and churn signals
    "churn": (
        "or i'm cancelling", "or i'll cancel", "i'm cancelling", "i will cancel",
        "competitor", "alternatives", "considering leaving", "switch provider",
        "moving to another", "cancel everything", "i'm done with",
        "me doy de baja", "competencia", "cambiar de proveedor", "me voy a otra",
        "sinon je resilie", "alors je resilie", "je resilie tout", "je resilie immediatement",
        "concurrent", "d'autres offres", "changer de fournisseur",
        "sonst kundige ich", "dann kundige ich", "kundige ich sofort", "kundige ich alles",
        "konkurrenz", "alternativen", "anbieter wechseln",
        "cancelo tudo", "concorrencia", "trocar de fornecedor", "outra empresa",
        "take my business elsewhere", "look elsewhere", "switching to", "me cambio de",
        "cambiarme de", "je pars chez", "changer d'operateur", "ich wechsle", "wechsle zu",
        "vou trocar de", "mudar de operadora"),
    # rule 5: ultimatums
    "ultimatum": (
        "or i'm", "or i'll", "or i will", "by tomorrow", "by friday", "by monday", "right now",
        "immediately", "or else", "ya o", "inmediatamente", "o pondre", "o ire",
        "immediatement", "sinon", "ou je", "sofort", "sonst", "bis morgen", "agora ou",
        "imediatamente", "senao", "ou vou",
        # the churn threats that start with their condition (a stem names every cue it is
        # in, and the longest stem at a position is the one read)
        "or i'm cancelling", "or i'll cancel", "sinon je resilie", "alors je resilie",
        "sonst kundige ich", "dann kundige ich"),
    # rule 4: a condition put on staying ("unless this is fixed, I cancel"): with a
    # cancellation it is a threat, not a calm cancellation
    "condition": (
        "unless", "if this isn't", "if this is not", "if you don't", "if you can't",
        "a menos que", "salvo que", "si no lo", "si no me", "si no se", "sauf si", "a moins que",
        "si vous ne", "si ce n'est pas", "es sei denn", "wenn das nicht", "wenn sie nicht",
        "falls das nicht", "a nao ser que", "se nao for", "se voces nao", "se nao resolverem"),
    # bot_loop: the customer says the bot's answer did not help
    "not_helped": (
        "doesn't help", "does not help", "didn't help", "not helpful", "you just said",
        "same thing", "same answer", "not what i asked", "repeating", "you already said",
        "no me ayuda", "no me sirve", "lo mismo", "me repites", "ya me lo dijiste",
        "ne m'aide pas", "ca ne m'aide", "meme chose", "vous repetez", "ca ne sert a rien",
        "hilft mir nicht", "wiederholen sich", "das gleiche", "dasselbe", "bringt nichts",
        "nao ajuda", "nao me ajuda", "repetindo", "mesma coisa", "ja disse isso",
        "not my question", "doesn't answer", "didn't answer", "not answering",
        "answer my question", "not listening", "already tried that", "tried that already",
        "already did that", "irrelevant", "nothing to do with", "read my message",
        "no es lo que", "no responde a", "no contestas", "no me escuchas", "ya lo probe",
        "ya lo he probado", "ya lo hice", "no tiene nada que ver", "mi pregunta",
        "ce n'est pas ce que", "ne repond pas", "vous ne m'ecoutez", "tu ne m'ecoutes",
        "deja essaye", "rien a voir", "ma question", "nicht das, was", "nicht das was",
        "beantwortet nicht", "horen mir nicht", "horst mir nicht", "schon versucht",
        "schon probiert", "hat nichts damit", "meine frage", "nao e isso que",
        "nao responde", "nao esta me ouvindo", "ja tentei", "ja fiz isso",
        "nao tem nada a ver", "minha pergunta",
        # the answer did not help, in other words
        "did not help", "hasn't helped", "has not helped", "not helping", "no help at all",
        "doesn't solve", "didn't solve", "does not answer", "not an answer",
        "had that answer", "heard that before", "you keep saying", "same reply",
        "have to do with", "how is that relevant", "not relevant",
        "no me ha ayudado", "no me ayudo", "no ayuda", "no sirve de nada", "no me sirvio",
        "no me resuelve", "no resuelve", "no me soluciona", "eso ya me lo", "me dices lo mismo",
        "que tiene que ver", "no me entiendes", "ne m'a pas aide", "n'aide pas", "ca n'aide",
        "ne sert a rien", "ne resout pas", "ne regle rien", "je viens de vous le dire",
        "vous l'avez deja dit", "vous m'avez deja dit", "meme reponse", "quel rapport",
        "vous ne comprenez pas", "hilft nicht", "hilft leider nicht", "hilft mir leider nicht",
        "hat nicht geholfen", "hat mir nicht geholfen", "nicht hilfreich", "lost mein problem nicht",
        "beantwortet meine frage nicht", "haben sie schon gesagt", "haben sie bereits gesagt",
        "was hat das mit", "verstehen mich nicht", "dieselbe antwort", "die gleiche antwort",
        "nao ajudou", "nao me ajudou", "nao resolve", "nao resolveu", "nao serve",
        "voce ja disse", "ja me disse", "mesma resposta", "esta repetindo",
        "o que isso tem a ver", "nada a ver", "nao esta entendendo",
        # nothing changed, it does not help "us" or "any further", "I just told you"
        "changes nothing", "changed nothing", "made no difference", "makes no difference",
        "doesn't help us", "does not help us", "i just told you", "i just said that",
        "i just wrote", "no cambia nada", "no ha cambiado nada", "no nos ayuda",
        "te lo acabo de decir", "se lo acabo de decir", "acabo de escribir", "ne change rien",
        "n'a rien change", "ne nous aide pas", "je viens de vous l'ecrire",
        "je viens de l'ecrire", "je viens de vous l'expliquer", "aucun rapport",
        "andert nichts", "hat nichts geandert", "hilft uns nicht", "hilft mir also nicht",
        "hilft mir auch nicht", "hilft mir so nicht", "hilft nicht weiter",
        "hilft mir nicht weiter", "bringt mich nicht weiter", "nichts zu tun",
        "habe ich gerade geschrieben", "habe ich doch gerade", "gerade gesagt",
        "nao muda nada", "nao mudou nada", "nao nos ajuda", "acabei de dizer",
        "acabei de escrever", "acabei de explicar"),
}
