"""Message templates of the traffic simulator in Spanish, French, German and Portuguese.

Same scenarios and slots as ``streams.simulators.text``; products carry their article so the
sentences stay grammatical (German ones in the nominative).
"""

from __future__ import annotations

from streams.simulators.text import LanguagePack, Script

ES = LanguagePack(
    tag="es",
    names=("Lucía", "Mateo", "Sofía", "Hugo", "Martina", "Pablo", "Valentina", "Diego",
           "Carmen", "Javier", "Elena", "Andrés"),
    surnames=("García", "Martínez", "López", "Sánchez", "Romero", "Torres", "Navarro", "Ruiz"),
    products=("la cafetera Brio 200", "el auricular Nimbus 3", "la batidora AeroBlend X2",
              "la lámpara Lumen", "la mochila Trek 40L", "el reloj Pulse", "la silla Atlas",
              "el purificador Vela", "el robot aspirador Orbit"),
    months=("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
            "septiembre", "octubre", "noviembre", "diciembre"),
    date_format="{day} de {month}",
    currency_symbol="€",
    money_format="{value} {symbol}",
    decimal_comma=True,
    thanks=("Muchas gracias, eso es todo.", "¡Perfecto, gracias!",
            "Genial, muchas gracias por la ayuda."),
    frustrated=("Esto está tardando demasiado.", "¿En serio? Eso no me ayuda nada.",
                "Ya lo he explicado dos veces."),
    bot_more=("¿Puedo ayudarte con algo más?", "¡Me alegro de haberte ayudado, {name}!"),
    bot_handoff=("Te paso con un agente de nuestro equipo. El tiempo de espera es de unos "
                 "{minutes} minutos.", "Voy a ponerte en contacto con un especialista."),
    agent_bye=("¿Hay algo más en lo que pueda ayudarte, {name}?",
               "Gracias por tu paciencia, {name}. ¡Que tengas un buen día!"),
    customer_intro=("Soy {name}.", "Hola, soy {name} {surname}.", "Buenos días.",
                    "Hola, mi cuenta es {email}."),
    customer_tail=("Pedido {order}.", "Mi correo es {email}.", "Gracias.", "Es urgente.",
                   "Un saludo, {name}"),
    bot_intro=("Gracias, {name}.", "¡Claro, {name}!", "Entendido, {name}.", "Por supuesto."),
    ask_human=("¿Puedo hablar con una persona, por favor?",
               "Quiero hablar con alguien de vuestro equipo.",
               "Pásame con un agente.",
               "Necesito que me atienda un humano, no un bot.",
               "¿Me puede llamar alguien de atención al cliente?",
               "Quiero hablar con el encargado."),
    angry=("Esto es absolutamente ridículo, estoy furioso.",
           "Increíble. Me estáis haciendo perder el tiempo, es un servicio pésimo.",
           "Estoy muy enfadado. Es la peor atención que he recibido nunca."),
    disappointed=("Sinceramente esperaba mucho más, llevo años siendo cliente.",
                  "Estoy muy decepcionado, pagamos mucho por este servicio."),
    legal=("Si no se soluciona antes del {new_date}, hablará con vosotros mi abogado.",
           "Voy a emprender acciones legales.",
           "Os pienso demandar si no me devolvéis los {amount}."),
    vague=("Hola, es por lo de la semana pasada.", "Lo mismo de antes, ¿lo podéis mirar?",
           "¿Hola? ¿Hay alguien?", "Ha vuelto a pasar."),
    repeat_prefix=("Repito:", "Ya lo dije:", "Otra vez:"),
    bot_fallback=("Lo siento, no te he entendido. ¿Podrías reformular la pregunta?",
                  "Perdona, no lo entendí. ¿Puedes decirlo de otra forma?",
                  "Todavía estoy aprendiendo y no he encontrado respuesta a eso."),
    upset=frozenset({
        "Quiero que me devuelvan los gastos de envío.",
        "Siempre llegan tarde vuestros pedidos. Estoy harto.",
        "Es más caro de lo que esperaba.",
    }),
    bot_clarify=("¿Me cuentas un poco más sobre lo que necesitas?",
                 "¡Claro! ¿De qué se trata?"),
    scripts={
        "password_reset": Script(
            opening=("Hola, no puedo entrar en mi cuenta y no me llega el correo para cambiar "
                     "la contraseña.",
                     "He olvidado mi contraseña. Mi correo es {email}."),
            follow_up=("Ya he mirado en la carpeta de spam y no hay nada.",
                       "Vale, ya funciona la nueva contraseña."),
            bot=("Lo siento, {name}. Te he enviado un nuevo enlace a {email}; es válido durante "
                 "30 minutos.",
                 "Por seguridad solo puedo enviar el enlace al correo registrado."),
            agent=("He verificado tu identidad y he desbloqueado la cuenta. Ya puedes entrar.",),
        ),
        "delivery_status": Script(
            opening=("¿Dónde está mi pedido {order}?",
                     "Hola, ¿cuándo llegará {product}? El pedido es el {order}."),
            follow_up=("¿Puedo cambiar la dirección de entrega?", "¡Genial, gracias!"),
            bot=("El pedido {order} está en camino y llegará el {new_date}. Número de "
                 "seguimiento: {tracking}.",
                 "Tu pedido salió de nuestro almacén el {date} y está en tránsito."),
            agent=("He hablado con la empresa de transporte: el paquete llegará el {new_date}.",),
        ),
        "how_to": Script(
            opening=("¿Cómo descargo mis facturas en PDF?",
                     "¿Cómo puedo añadir otro usuario a mi cuenta {plan}?"),
            follow_up=("No encuentro esa opción.", "Perfecto, ya lo he hecho. ¡Gracias!"),
            bot=("Ve a Ajustes > Facturación > Facturas y pulsa Descargar.",
                 "Puedes invitar usuarios en Ajustes > Equipo. Tu plan {plan} incluye hasta "
                 "{seats} usuarios."),
            agent=("Te he enviado un vídeo corto con los pasos, {name}.",),
        ),
        "late_delivery": Script(
            opening=("Mi pedido {order} tenía que llegar el {date} y todavía no ha llegado. "
                     "Estoy muy molesto.",
                     "Llevo {days} días esperando y pagué {amount} por el envío urgente. ¡Es "
                     "inaceptable!"),
            follow_up=("Quiero que me devuelvan los gastos de envío.",
                       "Siempre llegan tarde vuestros pedidos. Estoy harto."),
            bot=("Siento mucho el retraso, {name}. La nueva fecha estimada es el {new_date}.",
                 "Puedo reembolsarte los {amount} del envío urgente."),
            agent=("Te he devuelto {amount} del envío y te he añadido un cupón del 15 %.",),
        ),
        "double_charge": Script(
            opening=("¡Me habéis cobrado dos veces {amount} por el pedido {order}!",
                     "Veo un cargo duplicado de {amount} en la tarjeta acabada en {last4}."),
            follow_up=("¿Cuándo me devolvéis el dinero?", "Gracias por la rapidez."),
            bot=("Lo siento mucho. Veo dos cargos de {amount}; he iniciado el reembolso de uno "
                 "de ellos.",),
            agent=("El cargo duplicado de {amount} ya está reembolsado; lo verás en 3-5 días "
                   "hábiles.",),
        ),
        "broken_product": Script(
            opening=("Recibí {product} con la caja aplastada y no funciona.",
                     "Compré {product} el {date} y dejó de funcionar a los {days} días."),
            follow_up=("Prefiero un cambio antes que el reembolso.",
                       "Os he enviado fotos de los daños."),
            bot=("Lo siento mucho. ¿Puedes enviarnos una foto del producto y del embalaje?",
                 "El producto tiene dos años de garantía. Puedo tramitar un cambio o un "
                 "reembolso de {amount}."),
            agent=("Hoy mismo te enviamos un producto nuevo por envío urgente.",),
        ),
        "escalation": Script(
            opening=("Es la tercera vez que escribo por el pedido {order} y nadie me ayuda.",
                     "Vuestro bot no sirve para nada. Quiero hablar con una persona."),
            follow_up=("¡Quiero hablar con un responsable AHORA!",
                       "Si no lo solucionáis hoy, cancelo todo y pongo una reseña."),
            bot=("Entiendo tu frustración, {name}. Te paso con una persona de nuestro equipo.",),
            agent=("Hola {name}, soy {agent}, responsable del equipo. He leído todo el historial "
                   "y lo siento mucho. Vamos a solucionarlo ahora.",
                   "Te he hecho un reembolso completo de {amount}."),
        ),
        "pricing": Script(
            opening=("Hola, ¿cuánto cuesta el plan {plan}?",
                     "Somos un equipo de {seats} personas, ¿cuánto costaría al mes?"),
            follow_up=("¿Hay prueba gratuita?", "Es más caro de lo que esperaba."),
            bot=("El plan {plan} cuesta {price} por usuario al mes con facturación anual.",
                 "Para {seats} usuarios serían unos {amount} al mes."),
            agent=("Te puedo ofrecer un 15 % de descuento con un compromiso de 12 meses.",),
        ),
        "demo": Script(
            opening=("Me gustaría reservar una demo para mi equipo.",
                     "¿Podemos hacer una llamada para ver el plan Enterprise?"),
            follow_up=("El {new_date} por la tarde me viene bien.",
                       "Envía la invitación a {email}, por favor."),
            bot=("¡Claro! He reservado una demo el {new_date} a las 15:00. La invitación va a "
                 "{email}.",),
            agent=("Hola {name}, soy {agent} del equipo comercial. Yo haré la demo el "
                   "{new_date}.",),
        ),
        "billing": Script(
            opening=("¿Me podéis enviar la factura del {date}?",
                     "¿Por qué me habéis cobrado {amount} este mes?"),
            follow_up=("Ah, vale, se me olvidaron los usuarios extra.",
                       "Reenviadla a {email}, por favor."),
            bot=("El cargo de {amount} incluye {seats} usuarios adicionales.",
                 "Puedes descargar todas las facturas en Ajustes > Facturación."),
            agent=("He corregido la factura y te he aplicado un abono de {amount}.",),
        ),
        "cancellation": Script(
            opening=("Quiero cancelar mi suscripción.",
                     "Por favor, cancelad mi plan {plan} al final del periodo."),
            follow_up=("Es demasiado caro para lo que usamos.", "No, gracias, ya lo he decidido."),
            bot=("Siento que te vayas, {name}. ¿Puedo preguntarte el motivo?",
                 "Antes de irte: te ofrezco 3 meses al 50 % en el plan {plan}."),
            agent=("Suscripción cancelada. Tus datos seguirán disponibles hasta el {new_date}.",),
        ),
        "refund": Script(
            opening=("Quiero que me devolváis el dinero del pedido {order}.",
                     "Devolví {product} el {date}. ¿Cuándo recibiré los {amount}?"),
            follow_up=("¿Cuánto tarda el reembolso?", "Ya han pasado {days} días y nada."),
            bot=("Los reembolsos se procesan en 5 días hábiles desde que recibimos el producto.",
                 "Tu devolución llegó el {date}; el reembolso de {amount} ya está emitido."),
            agent=("He tramitado el reembolso de {amount} manualmente; lo verás en 2-3 días.",),
        ),
    },
)

FR = LanguagePack(
    tag="fr",
    names=("Camille", "Louis", "Léa", "Gabriel", "Chloé", "Jules", "Manon", "Hugo", "Inès",
           "Arthur", "Sarah", "Nathan"),
    surnames=("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Petit", "Durand", "Moreau"),
    products=("la cafetière Brio 200", "le casque Nimbus 3", "le blender AeroBlend X2",
              "la lampe Lumen", "le sac à dos Trek 40L", "la montre Pulse", "la chaise Atlas",
              "le purificateur Vela", "l'aspirateur robot Orbit"),
    months=("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
            "septembre", "octobre", "novembre", "décembre"),
    date_format="{day} {month}",
    currency_symbol="€",
    money_format="{value} {symbol}",
    decimal_comma=True,
    thanks=("Merci beaucoup, c'est tout.", "Parfait, merci !", "Super, merci pour votre aide."),
    frustrated=("C'est beaucoup trop long.", "Sérieusement ? Ça ne m'aide pas du tout.",
                "Je l'ai déjà expliqué deux fois."),
    bot_more=("Puis-je vous aider pour autre chose ?", "Ravi d'avoir pu vous aider, {name} !"),
    bot_handoff=("Je vous transfère à un conseiller. L'attente est d'environ {minutes} minutes.",
                 "Je vous mets en relation avec un spécialiste de notre équipe."),
    agent_bye=("Puis-je faire autre chose pour vous, {name} ?",
               "Merci pour votre patience, {name}. Bonne journée !"),
    customer_intro=("C'est {name}.", "Bonjour, {name} {surname} à l'appareil.", "Bonjour.",
                    "Bonjour, mon compte est {email}."),
    customer_tail=("Commande {order}.", "Mon e-mail est {email}.", "Merci.", "C'est urgent.",
                   "Cordialement, {name}"),
    bot_intro=("Merci, {name}.", "Bien sûr, {name} !", "C'est noté, {name}.", "Entendu."),
    ask_human=("Est-ce que je peux parler à une vraie personne ?",
               "Je voudrais parler à quelqu'un de votre équipe.",
               "Passez-moi un conseiller, s'il vous plaît.",
               "Je veux un humain, pas un robot.",
               "Un responsable peut-il me rappeler ?",
               "Mettez-moi en relation avec le service client."),
    angry=("C'est complètement ridicule, je suis furieux.",
           "Incroyable. Vous me faites perdre mon temps, c'est un service lamentable.",
           "Je suis vraiment en colère. C'est le pire service que j'aie jamais vu."),
    disappointed=("Franchement j'attendais beaucoup mieux, je suis client depuis des années.",
                  "Je suis très déçu, nous payons cher pour ce service."),
    legal=("Si ce n'est pas réglé avant le {new_date}, mon avocat vous contactera.",
           "Je vais engager une action en justice.",
           "Je vais porter plainte si je ne récupère pas mes {amount}."),
    vague=("Bonjour, c'est pour le truc de la semaine dernière.",
           "Même problème qu'avant, vous pouvez regarder ?", "Allô ? Il y a quelqu'un ?",
           "Ça recommence."),
    repeat_prefix=("Je répète :", "Encore une fois :", "Comme je l'ai dit,"),
    bot_fallback=("Désolé, je n'ai pas compris. Pouvez-vous reformuler ?",
                  "Pardon, je n'ai pas bien compris votre demande.",
                  "Je suis encore en apprentissage et je n'ai pas de réponse à cela."),
    upset=frozenset({
        "Je veux être remboursé des frais de port.",
        "Toutes vos commandes arrivent en retard, j'en ai assez.",
        "C'est plus cher que prévu.",
    }),
    bot_clarify=("Pouvez-vous m'en dire un peu plus sur votre demande ?",
                 "Avec plaisir ! De quoi s'agit-il ?"),
    scripts={
        "password_reset": Script(
            opening=("Bonjour, je n'arrive plus à me connecter et je ne reçois pas l'e-mail de "
                     "réinitialisation.",
                     "J'ai oublié mon mot de passe, mon adresse est {email}."),
            follow_up=("J'ai vérifié les spams, rien.", "C'est bon, le nouveau mot de passe "
                       "fonctionne."),
            bot=("Désolé, {name}. Je vous ai envoyé un nouveau lien à {email}, valable 30 "
                 "minutes.",),
            agent=("J'ai vérifié votre identité et débloqué le compte. Vous pouvez vous "
                   "connecter.",),
        ),
        "delivery_status": Script(
            opening=("Où en est ma commande {order} ?",
                     "Bonjour, quand vais-je recevoir {product} ? Commande {order}."),
            follow_up=("Est-ce que je peux changer l'adresse de livraison ?", "Super, merci !"),
            bot=("La commande {order} est en cours d'acheminement et arrivera le {new_date}. "
                 "Suivi : {tracking}.",
                 "Votre commande a quitté notre entrepôt le {date}."),
            agent=("J'ai contacté le transporteur : le colis sera livré le {new_date}.",),
        ),
        "how_to": Script(
            opening=("Comment télécharger mes factures en PDF ?",
                     "Comment ajouter un utilisateur à mon compte {plan} ?"),
            follow_up=("Je ne trouve pas ce réglage.", "Parfait, ça marche. Merci !"),
            bot=("Allez dans Paramètres > Facturation > Factures puis cliquez sur Télécharger.",
                 "Vous pouvez inviter des utilisateurs dans Paramètres > Équipe. Votre offre "
                 "{plan} inclut jusqu'à {seats} utilisateurs."),
            agent=("Je vous ai envoyé une courte vidéo qui montre les étapes, {name}.",),
        ),
        "late_delivery": Script(
            opening=("Ma commande {order} devait arriver le {date} et je n'ai toujours rien. "
                     "C'est vraiment agaçant.",
                     "Cela fait {days} jours de retard alors que j'ai payé {amount} pour la "
                     "livraison express !"),
            follow_up=("Je veux être remboursé des frais de port.",
                       "Toutes vos commandes arrivent en retard, j'en ai assez."),
            bot=("Je suis vraiment désolé pour ce retard, {name}. La nouvelle date estimée est "
                 "le {new_date}.",
                 "Je peux vous rembourser les {amount} de livraison express."),
            agent=("Je vous ai remboursé {amount} de frais de port et ajouté un bon de 15 %.",),
        ),
        "double_charge": Script(
            opening=("Vous m'avez débité deux fois {amount} pour la commande {order} !",
                     "Je vois un double prélèvement de {amount} sur la carte finissant par "
                     "{last4}."),
            follow_up=("Quand serai-je remboursé ?", "Merci pour la rapidité."),
            bot=("Toutes mes excuses. Je vois deux paiements de {amount} ; j'ai lancé le "
                 "remboursement de l'un d'eux.",),
            agent=("Le paiement en double de {amount} est remboursé ; il apparaîtra sous 3 à 5 "
                   "jours ouvrés.",),
        ),
        "broken_product": Script(
            opening=("J'ai reçu {product} aujourd'hui, le carton était écrasé et l'appareil ne "
                     "fonctionne pas.",
                     "J'ai acheté {product} le {date} et l'appareil ne marche plus après {days} "
                     "jours."),
            follow_up=("Je préfère un échange plutôt qu'un remboursement.",
                       "Je vous ai envoyé des photos."),
            bot=("Je suis désolé. Pouvez-vous nous envoyer une photo de l'article et de "
                 "l'emballage ?",
                 "L'article est garanti deux ans. Je peux organiser un échange ou un "
                 "remboursement de {amount}."),
            agent=("Nous vous expédions un article neuf aujourd'hui en express.",),
        ),
        "escalation": Script(
            opening=("C'est la troisième fois que je vous contacte pour la commande {order} et "
                     "personne ne m'aide.",
                     "Votre bot est inutile. Je veux parler à une vraie personne."),
            follow_up=("Je veux parler à un responsable MAINTENANT !",
                       "Si ce n'est pas réglé aujourd'hui, je résilie tout."),
            bot=("Je comprends votre frustration, {name}. Je vous transfère à un membre de "
                 "l'équipe.",),
            agent=("Bonjour {name}, je suis {agent}, responsable d'équipe. J'ai lu tout "
                   "l'historique et je suis désolé. Réglons cela maintenant.",
                   "Je vous ai remboursé intégralement {amount}."),
        ),
        "pricing": Script(
            opening=("Bonjour, combien coûte l'offre {plan} ?",
                     "Nous sommes {seats} dans l'équipe, quel serait le prix mensuel ?"),
            follow_up=("Y a-t-il un essai gratuit ?", "C'est plus cher que prévu."),
            bot=("L'offre {plan} coûte {price} par utilisateur et par mois en facturation "
                 "annuelle.",
                 "Pour {seats} utilisateurs, cela ferait environ {amount} par mois."),
            agent=("Je peux vous proposer 15 % de remise pour un engagement de 12 mois.",),
        ),
        "demo": Script(
            opening=("J'aimerais réserver une démo pour mon équipe.",
                     "Pouvons-nous prévoir un appel pour l'offre Enterprise ?"),
            follow_up=("Le {new_date} dans l'après-midi, ce serait parfait.",
                       "Envoyez l'invitation à {email}, s'il vous plaît."),
            bot=("Avec plaisir ! J'ai réservé une démo le {new_date} à 15 h. L'invitation part "
                 "à {email}.",),
            agent=("Bonjour {name}, je suis {agent} de l'équipe commerciale. Je présenterai la "
                   "démo le {new_date}.",),
        ),
        "billing": Script(
            opening=("Pouvez-vous m'envoyer la facture du {date} ?",
                     "Pourquoi ai-je été débité de {amount} ce mois-ci ?"),
            follow_up=("Ah d'accord, j'avais oublié les utilisateurs supplémentaires.",
                       "Renvoyez-la à {email}, merci."),
            bot=("Le montant de {amount} inclut {seats} utilisateurs supplémentaires.",
                 "Toutes vos factures sont dans Paramètres > Facturation."),
            agent=("J'ai corrigé la facture et appliqué un avoir de {amount}.",),
        ),
        "cancellation": Script(
            opening=("Je souhaite résilier mon abonnement.",
                     "Merci d'annuler mon offre {plan} à la fin de la période."),
            follow_up=("C'est trop cher pour notre usage.", "Non merci, ma décision est prise."),
            bot=("Dommage de vous voir partir, {name}. Puis-je connaître la raison ?",
                 "Avant de partir : je vous propose 3 mois à -50 % sur l'offre {plan}."),
            agent=("Abonnement résilié. Vos données restent disponibles jusqu'au {new_date}.",),
        ),
        "refund": Script(
            opening=("Je voudrais être remboursé pour la commande {order}.",
                     "J'ai renvoyé {product} le {date}. Quand vais-je récupérer {amount} ?"),
            follow_up=("Combien de temps prend le remboursement ?",
                       "Cela fait déjà {days} jours et toujours rien."),
            bot=("Les remboursements sont traités sous 5 jours ouvrés après réception.",
                 "Votre retour est arrivé le {date} ; le remboursement de {amount} est émis."),
            agent=("J'ai forcé le remboursement de {amount} ; vous le verrez sous 2 à 3 jours.",),
        ),
    },
)

DE = LanguagePack(
    tag="de",
    names=("Lukas", "Anna", "Leon", "Marie", "Felix", "Laura", "Jonas", "Lena", "Paul",
           "Sophie", "Maximilian", "Julia"),
    surnames=("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker"),
    products=("die Kaffeemaschine Brio 200", "das Headset Nimbus 3", "der Mixer AeroBlend X2",
              "die Lampe Lumen", "der Rucksack Trek 40L", "die Smartwatch Pulse",
              "der Bürostuhl Atlas", "der Luftreiniger Vela", "der Saugroboter Orbit"),
    months=("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August",
            "September", "Oktober", "November", "Dezember"),
    date_format="{day}. {month}",
    currency_symbol="€",
    money_format="{value} {symbol}",
    decimal_comma=True,
    thanks=("Vielen Dank, das war alles.", "Perfekt, danke!", "Super, danke für die Hilfe."),
    frustrated=("Das dauert viel zu lange.", "Das hilft mir überhaupt nicht weiter.",
                "Ich habe das schon zweimal erklärt."),
    bot_more=("Kann ich sonst noch etwas für Sie tun?", "Gern geschehen, {name}!"),
    bot_handoff=("Ich verbinde Sie mit einem Mitarbeiter. Die Wartezeit beträgt etwa {minutes} "
                 "Minuten.", "Ich leite Ihr Anliegen an einen Kollegen weiter."),
    agent_bye=("Kann ich sonst noch etwas für Sie tun, {name}?",
               "Danke für Ihre Geduld, {name}. Einen schönen Tag noch!"),
    customer_intro=("Hier ist {name}.", "Guten Tag, {name} {surname} hier.", "Hallo.",
                    "Hallo, mein Konto ist {email}."),
    customer_tail=("Bestellung {order}.", "Meine E-Mail ist {email}.", "Danke.",
                   "Es ist dringend.", "Viele Grüße, {name}"),
    bot_intro=("Danke, {name}.", "Gern, {name}!", "Verstanden, {name}.", "Selbstverständlich."),
    ask_human=("Kann ich bitte mit einem echten Menschen sprechen?",
               "Ich möchte mit jemandem aus Ihrem Team sprechen.",
               "Verbinden Sie mich bitte mit einem Mitarbeiter.",
               "Ich will keinen Bot, sondern einen Menschen.",
               "Kann mich ein Vorgesetzter zurückrufen?",
               "Bitte stellen Sie mich zum Kundenservice durch."),
    angry=("Das ist absolut lächerlich, ich bin wütend.",
           "Unglaublich. Sie verschwenden meine Zeit, das ist ein miserabler Service.",
           "Ich bin wirklich verärgert. Das ist der schlechteste Service, den ich je hatte."),
    disappointed=("Ehrlich gesagt hatte ich viel mehr erwartet, ich bin seit Jahren Kunde.",
                  "Ich bin sehr enttäuscht, wir zahlen viel für diesen Service."),
    legal=("Wenn das bis zum {new_date} nicht geklärt ist, meldet sich mein Anwalt.",
           "Ich werde rechtliche Schritte einleiten.",
           "Ich werde Sie verklagen, wenn ich meine {amount} nicht zurückbekomme."),
    vague=("Hallo, es geht um die Sache von letzter Woche.",
           "Gleiches Problem wie vorher, können Sie nachsehen?", "Hallo? Ist da jemand?",
           "Es ist wieder passiert."),
    repeat_prefix=("Ich sagte:", "Nochmal:", "Wie gesagt,"),
    bot_fallback=("Entschuldigung, das habe ich nicht verstanden. Können Sie es anders "
                  "formulieren?",
                  "Das habe ich leider nicht verstanden.",
                  "Ich lerne noch und habe darauf keine Antwort gefunden."),
    upset=frozenset({
        "Ich möchte die Versandkosten zurück.",
        "Jede Bestellung bei Ihnen kommt zu spät. Ich habe genug.",
        "Das ist teurer als erwartet.",
    }),
    bot_clarify=("Können Sie mir etwas mehr über Ihr Anliegen erzählen?",
                 "Gern! Worum geht es denn?"),
    scripts={
        "password_reset": Script(
            opening=("Hallo, ich komme nicht in mein Konto und die E-Mail zum Zurücksetzen des "
                     "Passworts kommt nicht an.",
                     "Ich habe mein Passwort vergessen. Meine Adresse ist {email}."),
            follow_up=("Im Spam-Ordner ist auch nichts.", "Okay, das neue Passwort funktioniert."),
            bot=("Das tut mir leid, {name}. Ich habe einen neuen Link an {email} geschickt; er "
                 "ist 30 Minuten gültig.",),
            agent=("Ich habe Ihre Identität geprüft und das Konto entsperrt. Sie können sich "
                   "jetzt anmelden.",),
        ),
        "delivery_status": Script(
            opening=("Wo ist meine Bestellung {order}?",
                     "Hallo, wann kommt {product} an? Bestellnummer {order}."),
            follow_up=("Kann ich die Lieferadresse noch ändern?", "Super, danke!"),
            bot=("Bestellung {order} ist unterwegs und kommt voraussichtlich am {new_date}. "
                 "Sendungsnummer: {tracking}.",
                 "Ihre Bestellung hat unser Lager am {date} verlassen."),
            agent=("Ich habe mit dem Paketdienst gesprochen: Das Paket wird am {new_date} "
                   "zugestellt.",),
        ),
        "how_to": Script(
            opening=("Wie kann ich meine Rechnungen als PDF herunterladen?",
                     "Wie füge ich meinem {plan}-Konto einen weiteren Nutzer hinzu?"),
            follow_up=("Ich finde diese Einstellung nicht.", "Perfekt, hat geklappt. Danke!"),
            bot=("Gehen Sie zu Einstellungen > Abrechnung > Rechnungen und klicken Sie auf "
                 "Herunterladen.",
                 "Nutzer laden Sie unter Einstellungen > Team ein. Ihr {plan}-Tarif umfasst bis "
                 "zu {seats} Nutzer."),
            agent=("Ich habe Ihnen ein kurzes Video mit den Schritten geschickt, {name}.",),
        ),
        "late_delivery": Script(
            opening=("Meine Bestellung {order} sollte am {date} ankommen und ist immer noch "
                     "nicht da. Sehr ärgerlich.",
                     "Schon {days} Tage Verspätung, obwohl ich {amount} für Expressversand "
                     "bezahlt habe!"),
            follow_up=("Ich möchte die Versandkosten zurück.",
                       "Jede Bestellung bei Ihnen kommt zu spät. Ich habe genug."),
            bot=("Die Verspätung tut mir sehr leid, {name}. Neuer Liefertermin ist der "
                 "{new_date}.",
                 "Ich kann Ihnen die {amount} für den Expressversand erstatten."),
            agent=("Ich habe Ihnen {amount} Versandkosten erstattet und einen Gutschein über 15 % "
                   "hinzugefügt.",),
        ),
        "double_charge": Script(
            opening=("Sie haben mir für die Bestellung {order} zweimal {amount} abgebucht!",
                     "Auf der Karte mit Endziffern {last4} sehe ich eine doppelte Abbuchung von "
                     "{amount}."),
            follow_up=("Wann bekomme ich mein Geld zurück?", "Danke für die schnelle Hilfe."),
            bot=("Das tut mir leid. Ich sehe zwei Zahlungen über {amount} und habe die "
                 "Erstattung einer davon veranlasst.",),
            agent=("Die doppelte Zahlung von {amount} ist erstattet; sie erscheint in 3-5 "
                   "Werktagen auf Ihrem Konto.",),
        ),
        "broken_product": Script(
            opening=("Leider ist {product} beschädigt angekommen, der Karton war eingedrückt.",
                     "Seit dem {date} habe ich das Gerät, und nach {days} Tagen funktioniert "
                     "es nicht mehr."),
            follow_up=("Ich hätte lieber einen Ersatz als eine Erstattung.",
                       "Ich habe Ihnen Fotos geschickt."),
            bot=("Das tut mir leid. Können Sie uns ein Foto vom Artikel und der Verpackung "
                 "schicken?",
                 "Der Artikel hat zwei Jahre Garantie. Ich kann einen Ersatz oder eine "
                 "Erstattung von {amount} veranlassen."),
            agent=("Wir schicken Ihnen heute noch einen neuen Artikel per Express.",),
        ),
        "escalation": Script(
            opening=("Ich schreibe schon zum dritten Mal wegen der Bestellung {order} und "
                     "niemand hilft mir.",
                     "Ihr Bot ist nutzlos. Ich will mit einem Menschen sprechen."),
            follow_up=("Ich will SOFORT einen Vorgesetzten sprechen!",
                       "Wenn das heute nicht gelöst wird, kündige ich alles."),
            bot=("Ich verstehe Ihren Ärger, {name}. Ich verbinde Sie mit unserem Team.",),
            agent=("Hallo {name}, ich bin {agent}, Teamleitung. Ich habe den ganzen Verlauf "
                   "gelesen und es tut mir leid. Wir lösen das jetzt.",
                   "Ich habe Ihnen den vollen Betrag von {amount} erstattet."),
        ),
        "pricing": Script(
            opening=("Hallo, was kostet der {plan}-Tarif?",
                     "Wir sind ein Team von {seats} Personen. Was würde das im Monat kosten?"),
            follow_up=("Gibt es eine kostenlose Testphase?", "Das ist teurer als erwartet."),
            bot=("Der {plan}-Tarif kostet {price} pro Nutzer und Monat bei jährlicher "
                 "Abrechnung.",
                 "Für {seats} Nutzer wären es etwa {amount} im Monat."),
            agent=("Bei 12 Monaten Laufzeit kann ich Ihnen 15 % Rabatt anbieten.",),
        ),
        "demo": Script(
            opening=("Ich möchte eine Demo für mein Team buchen.",
                     "Können wir einen Termin zum Enterprise-Tarif vereinbaren?"),
            follow_up=("Am {new_date} nachmittags würde es passen.",
                       "Bitte schicken Sie die Einladung an {email}."),
            bot=("Gern! Ich habe eine Demo am {new_date} um 15 Uhr gebucht. Die Einladung geht "
                 "an {email}.",),
            agent=("Hallo {name}, ich bin {agent} aus dem Vertrieb und führe die Demo am "
                   "{new_date} durch.",),
        ),
        "billing": Script(
            opening=("Können Sie mir die Rechnung vom {date} schicken?",
                     "Warum wurden mir diesen Monat {amount} berechnet?"),
            follow_up=("Ach so, die zusätzlichen Nutzer hatte ich vergessen.",
                       "Bitte schicken Sie sie an {email}."),
            bot=("Der Betrag von {amount} enthält {seats} zusätzliche Nutzer.",
                 "Alle Rechnungen finden Sie unter Einstellungen > Abrechnung."),
            agent=("Ich habe die Rechnung korrigiert und Ihnen {amount} gutgeschrieben.",),
        ),
        "cancellation": Script(
            opening=("Ich möchte mein Abo kündigen.",
                     "Bitte kündigen Sie meinen {plan}-Tarif zum Ende der Laufzeit."),
            follow_up=("Es ist zu teuer für unsere Nutzung.", "Nein danke, ich habe mich "
                       "entschieden."),
            bot=("Schade, dass Sie gehen, {name}. Darf ich nach dem Grund fragen?",
                 "Bevor Sie gehen: Ich biete Ihnen 3 Monate mit 50 % Rabatt auf den "
                 "{plan}-Tarif an."),
            agent=("Das Abo ist gekündigt. Ihre Daten bleiben bis zum {new_date} verfügbar.",),
        ),
        "refund": Script(
            opening=("Ich möchte eine Erstattung für die Bestellung {order}.",
                     "Ich habe die Ware am {date} zurückgeschickt. Wann bekomme ich {amount} "
                     "zurück?"),
            follow_up=("Wie lange dauert die Erstattung?",
                       "Es sind schon {days} Tage vergangen und noch immer nichts."),
            bot=("Erstattungen werden innerhalb von 5 Werktagen nach Eingang bearbeitet.",
                 "Ihre Rücksendung kam am {date} an; die Erstattung von {amount} ist "
                 "veranlasst."),
            agent=("Ich habe die Erstattung von {amount} manuell angestoßen; sie kommt in 2-3 "
                   "Tagen an.",),
        ),
    },
)

PT = LanguagePack(
    tag="pt",
    names=("Ana", "João", "Beatriz", "Pedro", "Mariana", "Lucas", "Gabriela", "Rafael",
           "Juliana", "Thiago", "Larissa", "Bruno"),
    surnames=("Silva", "Santos", "Oliveira", "Souza", "Costa", "Pereira", "Almeida", "Ferreira"),
    products=("a cafeteira Brio 200", "o fone Nimbus 3", "o liquidificador AeroBlend X2",
              "a luminária Lumen", "a mochila Trek 40L", "o relógio Pulse", "a cadeira Atlas",
              "o purificador Vela", "o robô aspirador Orbit"),
    months=("janeiro", "fevereiro", "março", "abril", "maio", "junho", "julho", "agosto",
            "setembro", "outubro", "novembro", "dezembro"),
    date_format="{day} de {month}",
    currency_symbol="R$",
    money_format="{symbol} {value}",
    decimal_comma=True,
    thanks=("Muito obrigado, era só isso.", "Perfeito, obrigada!", "Ótimo, valeu pela ajuda."),
    frustrated=("Isso está demorando demais.", "Sério? Isso não ajuda em nada.",
                "Já expliquei isso duas vezes."),
    bot_more=("Posso ajudar em mais alguma coisa?", "Fico feliz em ajudar, {name}!"),
    bot_handoff=("Vou transferir você para um atendente. A espera é de cerca de {minutes} "
                 "minutos.", "Vou conectar você com um especialista da nossa equipe."),
    agent_bye=("Posso ajudar em mais alguma coisa, {name}?",
               "Obrigado pela paciência, {name}. Tenha um ótimo dia!"),
    customer_intro=("Aqui é {name}.", "Olá, sou {name} {surname}.", "Bom dia.",
                    "Oi, minha conta é {email}."),
    customer_tail=("Pedido {order}.", "Meu e-mail é {email}.", "Obrigado.", "É urgente.",
                   "Abraço, {name}"),
    bot_intro=("Obrigado, {name}.", "Claro, {name}!", "Entendi, {name}.", "Com certeza."),
    ask_human=("Posso falar com uma pessoa de verdade, por favor?",
               "Quero falar com alguém da equipe de vocês.",
               "Me passa para um atendente.",
               "Preciso de um humano, não de um robô.",
               "Alguém do suporte pode me ligar?",
               "Quero falar com o gerente."),
    angry=("Isso é completamente ridículo, estou furioso.",
           "Inacreditável. Vocês estão me fazendo perder tempo, que serviço péssimo.",
           "Estou muito irritado. É o pior atendimento que já tive."),
    disappointed=("Sinceramente esperava muito mais, sou cliente há anos.",
                  "Estou muito decepcionado, pagamos caro por esse serviço."),
    legal=("Se não resolverem até {new_date}, meu advogado vai entrar em contato.",
           "Vou entrar com uma ação judicial.",
           "Vou processar vocês se não devolverem meus {amount}."),
    vague=("Oi, é sobre aquilo da semana passada.", "Mesmo problema de antes, podem ver?",
           "Alô? Tem alguém aí?", "Aconteceu de novo."),
    repeat_prefix=("Repito:", "Como eu disse,", "De novo:"),
    bot_fallback=("Desculpe, não entendi. Pode reformular a pergunta?",
                  "Hmm, não consegui entender o que você quis dizer.",
                  "Ainda estou aprendendo e não encontrei uma resposta para isso."),
    upset=frozenset({
        "Quero o reembolso do frete.",
        "Todo pedido de vocês atrasa. Estou cansado disso.",
        "Está mais caro do que eu esperava.",
    }),
    bot_clarify=("Pode me contar um pouco mais sobre o que precisa?",
                 "Claro! Do que se trata?"),
    scripts={
        "password_reset": Script(
            opening=("Oi, não consigo entrar na minha conta e o e-mail para redefinir a senha "
                     "não chega.",
                     "Esqueci minha senha. Meu e-mail é {email}."),
            follow_up=("Já olhei no spam e não tem nada.", "Pronto, a nova senha funcionou."),
            bot=("Sinto muito, {name}. Enviei um novo link para {email}; ele vale por 30 "
                 "minutos.",),
            agent=("Verifiquei sua identidade e desbloqueei a conta. Você já pode entrar.",),
        ),
        "delivery_status": Script(
            opening=("Cadê meu pedido {order}?",
                     "Olá, quando vai chegar {product}? O pedido é {order}."),
            follow_up=("Posso mudar o endereço de entrega?", "Ótimo, obrigado!"),
            bot=("O pedido {order} está a caminho e deve chegar em {new_date}. Rastreio: "
                 "{tracking}.",
                 "Seu pedido saiu do nosso centro de distribuição em {date}."),
            agent=("Falei com a transportadora: o pacote será entregue em {new_date}.",),
        ),
        "how_to": Script(
            opening=("Como baixo minhas notas fiscais em PDF?",
                     "Como adiciono outro usuário à minha conta {plan}?"),
            follow_up=("Não encontro essa opção.", "Perfeito, deu certo. Obrigado!"),
            bot=("Vá em Configurações > Faturamento > Notas e clique em Baixar.",
                 "Você pode convidar usuários em Configurações > Equipe. Seu plano {plan} "
                 "inclui até {seats} usuários."),
            agent=("Enviei um vídeo curto com o passo a passo, {name}.",),
        ),
        "late_delivery": Script(
            opening=("Meu pedido {order} deveria ter chegado em {date} e até agora nada. Estou "
                     "muito chateado.",
                     "Já são {days} dias de atraso e paguei {amount} pelo frete expresso!"),
            follow_up=("Quero o reembolso do frete.",
                       "Todo pedido de vocês atrasa. Estou cansado disso."),
            bot=("Sinto muito pelo atraso, {name}. A nova previsão de entrega é {new_date}.",
                 "Posso reembolsar os {amount} do frete expresso."),
            agent=("Reembolsei {amount} do frete e adicionei um cupom de 15 % na sua conta.",),
        ),
        "double_charge": Script(
            opening=("Vocês me cobraram duas vezes {amount} pelo pedido {order}!",
                     "Vejo uma cobrança duplicada de {amount} no cartão final {last4}."),
            follow_up=("Quando vou receber meu dinheiro de volta?", "Obrigado pela agilidade."),
            bot=("Peço desculpas. Vejo duas cobranças de {amount} e já iniciei o estorno de "
                 "uma delas.",),
            agent=("A cobrança duplicada de {amount} foi estornada; aparece na fatura em até 5 "
                   "dias úteis.",),
        ),
        "broken_product": Script(
            opening=("Recebi {product} hoje e veio com defeito, a caixa estava amassada.",
                     "Comprei {product} em {date} e parou de funcionar depois de {days} dias."),
            follow_up=("Prefiro a troca em vez do reembolso.", "Mandei fotos do defeito."),
            bot=("Sinto muito. Pode nos enviar uma foto do produto e da embalagem?",
                 "O produto tem dois anos de garantia. Posso fazer a troca ou reembolsar "
                 "{amount}."),
            agent=("Hoje mesmo enviamos um produto novo por entrega expressa.",),
        ),
        "escalation": Script(
            opening=("É a terceira vez que escrevo sobre o pedido {order} e ninguém resolve.",
                     "Esse robô não serve para nada. Quero falar com uma pessoa."),
            follow_up=("Quero falar com um gerente AGORA!",
                       "Se não resolverem hoje, cancelo tudo e vou reclamar publicamente."),
            bot=("Entendo sua frustração, {name}. Vou transferir você para nossa equipe.",),
            agent=("Olá {name}, sou {agent}, líder da equipe. Li todo o histórico e sinto "
                   "muito. Vamos resolver agora.",
                   "Fiz o reembolso integral de {amount}."),
        ),
        "pricing": Script(
            opening=("Oi, quanto custa o plano {plan}?",
                     "Somos uma equipe de {seats} pessoas. Quanto ficaria por mês?"),
            follow_up=("Tem teste grátis?", "Está mais caro do que eu esperava."),
            bot=("O plano {plan} custa {price} por usuário por mês no plano anual.",
                 "Para {seats} usuários ficaria em torno de {amount} por mês."),
            agent=("Posso oferecer 15 % de desconto com fidelidade de 12 meses.",),
        ),
        "demo": Script(
            opening=("Gostaria de agendar uma demonstração para minha equipe.",
                     "Podemos marcar uma conversa sobre o plano Enterprise?"),
            follow_up=("Dia {new_date} à tarde seria ótimo.",
                       "Pode mandar o convite para {email}, por favor."),
            bot=("Claro! Agendei uma demonstração em {new_date} às 15h. O convite vai para "
                 "{email}.",),
            agent=("Olá {name}, sou {agent}, do time comercial. Vou apresentar a demonstração em "
                   "{new_date}.",),
        ),
        "billing": Script(
            opening=("Vocês podem me enviar a fatura de {date}?",
                     "Por que fui cobrado {amount} este mês?"),
            follow_up=("Ah, entendi, esqueci dos usuários extras.",
                       "Pode reenviar para {email}?"),
            bot=("O valor de {amount} inclui {seats} usuários adicionais.",
                 "Todas as faturas estão em Configurações > Faturamento."),
            agent=("Corrigi a fatura e apliquei um crédito de {amount}.",),
        ),
        "cancellation": Script(
            opening=("Quero cancelar minha assinatura.",
                     "Por favor, cancelem meu plano {plan} no fim do período."),
            follow_up=("Está caro demais para o que usamos.", "Não, obrigado, já decidi."),
            bot=("Que pena que você vai sair, {name}. Posso perguntar o motivo?",
                 "Antes de sair: posso oferecer 3 meses com 50 % de desconto no plano {plan}."),
            agent=("Assinatura cancelada. Seus dados ficam disponíveis até {new_date}.",),
        ),
        "refund": Script(
            opening=("Quero o reembolso do pedido {order}.",
                     "Devolvi {product} em {date}. Quando recebo os {amount}?"),
            follow_up=("Quanto tempo demora o reembolso?",
                       "Já se passaram {days} dias e nada."),
            bot=("Os reembolsos são processados em até 5 dias úteis após recebermos o produto.",
                 "Sua devolução chegou em {date}; o reembolso de {amount} já foi emitido."),
            agent=("Liberei o reembolso de {amount} manualmente; cai em 2 a 3 dias.",),
        ),
    },
)
