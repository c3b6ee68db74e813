"""Off-topic bot answers (``streams.conversation.loops``): content words, subjects meeting
across inflections and German compounds, function words of five languages ignored."""

from __future__ import annotations

from streams.conversation import loops
from streams.conversation.effects import Message


def test_words_drop_function_words_and_fold_accents() -> None:
    assert loops.words("Puedes consultar nuestras tarjetas de crédito") == [
        "consultar", "tarjetas", "credito"]
    assert loops.words("Thanks, that is all.") == []


def test_inflections_and_compounds_meet_their_subject() -> None:
    topic = loops.words("Die Sendungsverfolgung hängt, Überweisung fehlt")
    assert not loops.off_topic(loops.words("Die Verfolgung wird spät aktualisiert."), topic, [])
    assert not loops.off_topic(loops.words("La transferencia"), ["transferir"], [])
    assert loops.off_topic(loops.words("Ihr Passwort ändern Sie unter Einstellungen."),
                           topic, loops.words("Unsere Tarife stehen im Shop."))


def test_nothing_to_compare_is_never_off_topic() -> None:
    assert not loops.off_topic([], ["router"], [])
    assert not loops.off_topic(["router"], [], [])


def _m(role: str, text: str) -> Message:
    return Message(role=role, text=text, compound=None, at=0)


def test_an_answer_strays_from_the_recent_customer_messages_and_previous_answer() -> None:
    recent = [_m("customer", "Is SAP included in the business package?"),
              _m("bot", "The business package has 100 GB of storage."),
              _m("customer", "That does not answer my question.")]
    assert loops.strays("You can change your password under Settings.", recent)
    # on the subject of the customer or of the previous answer: no stray
    assert not loops.strays("The SAP connector is an extra.", recent)
    assert not loops.strays("Storage can be extended to 1 TB.", recent)


def test_a_question_or_an_acknowledgement_is_no_stray() -> None:
    recent = [_m("customer", "My router drops the connection every evening."),
              _m("bot", "Please restart the router."),
              _m("customer", "Restarted, that did not help.")]
    assert not loops.strays("Sorry to hear that, let me check.", recent)
    assert not loops.strays("Could you tell me which lights are blinking on the box?", recent)
    assert loops.strays("Our summer sale gives twenty percent off headphones.", recent)


def test_an_echo_read_on_words_or_on_character_ngrams() -> None:
    before = "Restart the controller by unplugging it for thirty seconds."
    rephrase = "A restart clears most faults: take the controller off the power for half a minute."
    assert loops.echo_share(before, before) == 1.0
    assert loops.echo_share(rephrase, before) == 0.4
    assert loops.ngram_cosine(before, before) == 1.0
    assert 0.4 < loops.ngram_cosine(rephrase, before) < 0.5
    assert loops.ngram_cosine("Summer sale on headphones.", before) < 0.2
    assert loops.ngram_cosine("", before) == 0.0
    # the n-gram reading is off unless its cosine is given
    assert not loops.echoes(rephrase, before)
    assert loops.echoes(rephrase, before, cosine=0.4)
    assert not loops.echoes(rephrase, before, cosine=0.5)
    # the n-grams are read only for answers that share some of the words
    assert not loops.echoes("Summer sale on headphones, today only.", before, cosine=0.0)
    # never a question, never a short answer but word for word
    assert not loops.echoes("Did you restart the controller for thirty seconds?", before, cosine=0.1)
    assert not loops.echoes("Restart the controller.", before, cosine=0.1)
