"""Off-topic bot answers (``streams.conversation.loops``): content words, subjects meeting
across inflections and German compounds, function words of five languages ignored."""

from __future__ import annotations

from streams.conversation import loops


def test_words_drop_function_words_and_fold_accents() -> None:
    assert loops.words("Puedes consultar nuestras tarjetas de crédito") == [
        "consultar", "tarjetas", "credito"]
    assert loops.words("Thanks, that is all.") == []


def test_inflections_and_compounds_meet_their_subject() -> None:
    topic = loops.with_topic([], "Die Sendungsverfolgung hängt, Überweisung fehlt")
    assert not loops.off_topic(loops.words("Die Verfolgung wird spät aktualisiert."), topic, [])
    assert not loops.off_topic(loops.words("La transferencia"), ["transferir"], [])
    assert loops.off_topic(loops.words("Ihr Passwort ändern Sie unter Einstellungen."),
                           topic, loops.words("Unsere Tarife stehen im Shop."))


def test_nothing_to_compare_is_never_off_topic() -> None:
    assert not loops.off_topic([], ["router"], [])
    assert not loops.off_topic(["router"], [], [])


def test_the_topic_is_bounded_and_keeps_the_latest_words() -> None:
    topic: list[str] = []
    for i in range(100):
        topic = loops.with_topic(topic, f"word{i:03d}")
    assert len(topic) == loops.TOPIC_LIMIT and topic[-1] == "word099"
