"""The evaluation sets written from LABELS.md: well formed, covering every intent in every
language, independent of the training data, and scored through the replay."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from streams.evaluation import guide_sets
from streams.training.data import TRAINING_PATHS, content_words, read

FIXED_TEAMS = {"billing": "billing", "refund": "billing", "technical_issue": "technical",
               "purchase_inquiry": "sales", "pricing": "sales", "cancellation": "retention",
               "other": "general"}


def test_every_intent_in_every_language_with_labels_from_the_guide() -> None:
    messages = guide_sets.load_messages()
    per = Counter((m.language, m.intent) for m in messages)
    for lang in guide_sets.LANGUAGES:
        for intent in guide_sets.INTENTS:
            assert per[lang, intent] >= 4, (lang, intent)
    for m in messages:
        assert m.team in guide_sets.TEAMS
        if m.intent in FIXED_TEAMS:
            assert m.team == FIXED_TEAMS[m.intent], m.text
        if m.intent == "human_request":  # rule 1: every human_request is escalated
            assert m.escalate, m.text
    assert {"terse", "rambling", "typo", "mixed", "sarcasm", "multi"} <= {
        m.style for m in messages}


def test_conversations_label_a_customer_message() -> None:
    conversations = guide_sets.load_conversations()
    assert {c.language for c in conversations} == set(guide_sets.LANGUAGES)
    for c in conversations:
        customers = sum(role == "CUSTOMER" for role, _ in c.turns)
        assert c.escalate_at is None or 0 <= c.escalate_at < customers, c.id
        assert (c.escalate_at is None) == (c.reason is None), c.id
    assert sum(c.escalate_at is None for c in conversations) >= 15


def test_no_evaluation_text_is_in_or_near_a_training_set() -> None:
    training = [r.text for path in TRAINING_PATHS
                for r in read(path)]
    exact = {t.casefold() for t in training}
    words = {content_words(t) for t in training}
    fresh = [m.text for name in ("fresh.yaml", "fresh2.yaml")
             for m in guide_sets.load_fresh(name=name)]
    # the held-out sets were written by someone who never saw the training files: its short
    # requests recur by chance ("Do you ship to Canada?" is also a Bitext message), so only
    # its messages (and conversation turns) of more than five words are held to this
    fresh += [t for held in guide_sets.DEV_SETS
              for t in [m.text for m in guide_sets.load_fresh(name=f"{held}.yaml")] + [
                  t for c in guide_sets.load_conversations(name=f"{held}_conversations.yaml")
                  for _, t in c.turns] if len(t.split()) > 5]
    conversations = guide_sets.load_conversations()
    texts = [m.text for m in guide_sets.load_messages()] + fresh + [
        t for c in conversations for _, t in c.turns]
    for text in texts:
        # one- and two-word messages ("hello", "cancel subscription") are bound to recur
        assert len(text.split()) <= 2 or text.casefold() not in exact, text
        cw = content_words(text)
        assert len(cw) < 3 or cw not in words, text


def test_the_report_scores_through_the_replay() -> None:
    messages = guide_sets.load_messages()[:12]
    out = guide_sets.message_report(messages)
    assert out["messages"] == 12
    assert out["intent"]["support"] == 12
    assert sum(map(sum, out["intent"]["confusion"])) == 12
    conversations = [c for c in guide_sets.load_conversations() if c.id in ("en-06", "en-01")]
    conv = guide_sets.conversation_report(conversations)
    assert conv["conversations"] == 2
    assert {d["id"] for d in conv["details"]} == {"en-06", "en-01"}


def test_the_held_out_set_is_in_the_report() -> None:
    full = guide_sets.report()
    held = guide_sets.held_out(full)
    assert held["messages"] == len(guide_sets.load_fresh(name="fresh3.yaml")) >= 400
    assert held["conversations"] == len(guide_sets.load_conversations(
        name="fresh3_conversations.yaml")) >= 60
    assert set(held["intent_macro_f1_by_language"]) == set(guide_sets.LANGUAGES)
    assert 0.0 <= held["conversation_escalation"]["escalation_recall"] <= 1.0


def test_every_development_set_is_in_the_report() -> None:
    full = guide_sets.report()
    for name in ("fresh3", "fresh4", "fresh5", "fresh6", "fresh7", "fresh8", "fresh9",
                 "fresh10", "fresh11", "fresh12", "fresh13", "fresh14", "fresh15"):
        assert name in guide_sets.DEV_SETS
        assert guide_sets.held_out(full, name)["messages"] == len(
            guide_sets.load_fresh(name=f"{name}.yaml"))


def test_a_named_held_out_pair_is_scored_besides_fresh3(tmp_path: Path) -> None:
    # a made-up pair in a directory of its own, in the form of fresh3
    (tmp_path / "heldx.yaml").write_text(
        "messages:\n"
        "  - [en, refund, billing, 0, plain, \"I would like my money back for order 5512\"]\n"
        "  - [de, other, general, 0, terse, \"danke!\"]\n", "utf-8")
    (tmp_path / "heldx_conversations.yaml").write_text(
        "conversations:\n"
        "  - id: hx-1\n    language: en\n    value: 100\n    intent: human_request\n"
        "    team: general\n    escalate_at: 0\n    reason: human_request\n"
        "    turns:\n      - \"c: Put me through to a real person please\"\n", "utf-8")
    full = guide_sets.report("heldx", tmp_path)
    block = guide_sets.held_out(full, "heldx")
    assert block["messages"] == 2 and block["conversations"] == 1
    assert block["conversation_escalation"]["escalation_recall"] == 1.0
    assert guide_sets.held_out(full)["messages"] == len(guide_sets.load_fresh(
        name="fresh3.yaml"))


def test_no_evaluation_text_is_in_or_near_the_discontent_turns() -> None:
    from streams.training.discontent import read_turns

    turns = read_turns()
    exact = {t.text.casefold() for t in turns}
    words = {content_words(t.text) for t in turns}
    texts = [m.text for name in ("fresh.yaml", "fresh2.yaml", *(
        f"{held}.yaml" for held in guide_sets.DEV_SETS)) for m in guide_sets.load_fresh(name=name)]
    texts += [t for name in ("conversations.yaml", *(
        f"{held}_conversations.yaml" for held in guide_sets.DEV_SETS))
        for c in guide_sets.load_conversations(name=name) for _, t in c.turns]
    texts += [m.text for m in guide_sets.load_messages()]
    for text in texts:
        assert len(text.split()) <= 2 or text.casefold() not in exact, text
        cw = content_words(text)
        assert len(cw) < 3 or cw not in words, text
