"""FastVader must give VADER's scores: on simulator traffic, on sentences that exercise every
rule, and on random mutations (shuffled words, random caps, punctuation, emoji, modifiers)."""

from __future__ import annotations

import math
import random
from collections.abc import Iterable

import pytest
import vaderSentiment.vaderSentiment as vader

from streams.simulators.chat import conversations
from streams.text import vader_fast
from streams.text.vader_fast import FastVader, Scores, round_half_even

TOLERANCE = 1e-9

TRICKY = [
    # the package's own examples
    "VADER is smart, handsome, and funny.",
    "VADER is smart, handsome, and funny!",
    "VADER is very smart, handsome, and funny.",
    "VADER is VERY SMART, handsome, and FUNNY.",
    "VADER is VERY SMART, handsome, and FUNNY!!!",
    "VADER is VERY SMART, uber handsome, and FRIGGIN FUNNY!!!",
    "VADER is not smart, handsome, nor funny.",
    "The book was good.",
    "At least it isn't a horrible book.",
    "The book was only kind of good.",
    "The plot was good, but the characters are uncompelling and the dialog is not great.",
    "Today SUX!",
    "Today only kinda sux! But I'll get by, lol",
    "Make sure you :) or :D today!",
    "Catch utf-8 emoji such as 💘 and 💋 and 😁",
    "Not bad at all",
    "Sentiment analysis has never been good.",
    "Sentiment analysis has never been this good!",
    "Most automated sentiment analysis tools are shit.",
    "With VADER, sentiment analysis is the shit!",
    "Other sentiment analysis tools can be quite bad.",
    "On the other hand, VADER is quite bad ass",
    "VADER is such a badass!",
    "Without a doubt, excellent idea.",
    "Roger Dodger is one of the most compelling variations on this theme.",
    "Roger Dodger is at least compelling as a variation on the theme.",
    "Roger Dodger is one of the least compelling variations on this theme.",
    "Not such a badass after all.",
    "Without a doubt, an excellent idea.",
    # negation: words, contractions, n't, "never so", "without doubt"
    "This isn't good", "I don't like it", "It doesn't work and I can't log in",
    "I didnt enjoy it", "It wasn't bad at all", "It aint great", "Nothing good ever happens",
    "never so happy", "never this happy", "never so very happy", "it was never good",
    "without doubt good", "without any doubt good", "without a doubt good",
    "I havent been happy", "nope not happy", "uh-uh, no good", "it won't help",
    "despite the good reviews it was bad", "rarely helpful", "seldom good service",
    # "no" as negation versus its own valence
    "no", "No.", "no good", "no no good", "no, good", "no problem", "no worries at all",
    "there is no help or support", "no time or nor help", "no love or hate",
    "no way this is good", "NO good", "no GOOD service here",
    # boosters and dampeners, with and without caps and negation
    "very good", "VERY good", "very GOOD service", "really really good",
    "extremely bad", "EXTREMELY bad service today", "incredibly unhelpful",
    "slightly annoying", "somewhat helpful", "barely acceptable", "hardly great",
    "kind of good", "kind of bad", "Kind Of Good", "kind of", "kind", "so kind",
    "sort of great", "just enough good", "a little sad", "almost perfect",
    "not very good", "not so bad", "so bad", "this bad", "so this good",
    "the most terrible experience", "the least terrible experience",
    # least
    "least good", "at least good", "very least good", "the least helpful agent",
    "at least it works", "least", "LEAST good ever",
    # "but"
    "good but bad", "bad but good", "I love it but it broke", "but", "but good",
    "nice, but terrible, but great", "happy sad but happy sad", "great but great",
    "good bad good but good", "bad but bad bad", "Good BUT bad",
    # punctuation emphasis
    "good!", "good!!", "good!!!", "good!!!!", "good!!!!!!!!", "bad!!!",
    "good?", "good??", "good???", "good????", "good?????", "bad??", "really??? great!!!",
    "!!!", "???", "?!?!", "where is my order??", "what??? no!!!",
    # ALL CAPS differential
    "GOOD", "GOOD SERVICE", "GOOD service", "this is GREAT", "THIS IS GREAT",
    "THIS IS GREAT but", "I HATE THIS", "I hate THIS", "ANGRY customer here",
    "let me speak to a manager NOW", "Let me speak to a manager NOW.",
    # special idioms
    "the bomb", "this was the bomb", "it is the bomb dot com", "the shit", "this is the shit",
    "bad ass", "so bad ass", "badass", "yeah right", "oh yeah right sure", "kiss of death",
    "the kiss of death", "it was a kiss of death", "a pizza to die for", "this cake is to die for",
    "my beating heart", "a real beating heart", "waiting at the bus stop", "the bus stop",
    "cut the mustard", "under the weather", "I feel under the weather today",
    "no doubt", "no doubt about it", "I have no doubt it is good",
    # emoticons, emoji, unicode
    ":)", ":(", ":-)", ";)", ":D", "<3", "</3", ":/", "XD", "xD", "=)", ":-(",
    "😁", "😡😡😡", "I am 😡", "😡 I am", "great😁", "😁great", "ok 👍", "👍👍 thanks",
    "thanks 🙏 so much", "🔛 on", "🆙 up", "© 2024", "™ ®", "🇫🇷 flag", "👩‍👩‍👧 family",
    "❤️ love it", "💔", "Très bien, merci beaucoup !", "Das ist schlecht", "¿Por qué no funciona?",
    "Ça ne marche pas 😠", "naïve café résumé", "ÉNORME problème", "İstanbul good", "ẞ ß",
    "\u00a0good\u00a0", "good\u2003bad", "good\u3000great", "tab\tgood\nnewline\rcr",
    "\x1cgood\x1dbad", "Ⅻ GOOD", "ǅ good", "ΣΊΣΥΦΟΣ good",
    # punctuation stripping and short tokens
    "(good)", "'good'", "\"great\"", "...good...", "good.", "--bad--", "ok", "OK", "ok!",
    "a", "A", "I", "I'm", "it's", "Im good", ":'(", "(-:", "x", "!", "?", ".", "...",
    # empty and blank
    "", " ", "   ", "\n", "\t \n",
    # contractions, long text
    "I'd say it's great, isn't it? Don't worry, we're fine and it's not a problem.",
    "I can't believe it's not butter, it's not bad, it's not good, and nobody cares!!",
    " ".join(["good"] * 60), " ".join(["bad", "good"] * 30), " ".join(["no"] * 10),
    "GOOD " * 5 + "bad", "NOT good NOT bad NOT happy not SAD",
]


def _reference(analyzer: vader.SentimentIntensityAnalyzer, text: str) -> Scores:
    got = analyzer.polarity_scores(text)
    return (got["compound"], got["pos"], got["neu"], got["neg"])


@pytest.fixture(scope="module")
def analyzer() -> vader.SentimentIntensityAnalyzer:
    return vader.SentimentIntensityAnalyzer()


@pytest.fixture(scope="module")
def fast() -> FastVader:
    return FastVader()


def _simulator_texts(seed: int, count: int = 20_000) -> list[str]:
    return [
        rec.value["text"]
        for rec in conversations(count, seed=seed, start_ms=1_700_000_000_000)
        if rec.value["event_type"] == "MESSAGE" and rec.value["text"]
    ]


def _assert_agree(
    analyzer: vader.SentimentIntensityAnalyzer, fast: FastVader, texts: Iterable[str]
) -> int:
    """Every text within TOLERANCE of VADER; returns how many were checked."""
    count = 0
    for text in texts:
        expected = _reference(analyzer, text)
        got = fast.polarity_scores(text)
        assert all(math.isclose(g, e, rel_tol=0.0, abs_tol=TOLERANCE)
                   for g, e in zip(got, expected, strict=True)), (text, got, expected)
        assert got == expected, (text, got, expected)
        count += 1
    return count


def test_constants_match_vader() -> None:
    assert vader_fast.BOOSTER_DICT == vader.BOOSTER_DICT
    assert set(vader.NEGATE) == vader_fast.NEGATE
    assert vader_fast.SPECIAL_CASES == vader.SPECIAL_CASES
    assert (vader_fast.B_INCR, vader_fast.B_DECR) == (vader.B_INCR, vader.B_DECR)
    assert (vader_fast.C_INCR, vader_fast.N_SCALAR) == (vader.C_INCR, vader.N_SCALAR)


def test_tables_match_vader(analyzer: vader.SentimentIntensityAnalyzer) -> None:
    assert vader_fast.load_lexicon() == analyzer.lexicon
    single = {key: value for key, value in analyzer.emojis.items() if len(key) == 1}
    assert vader_fast.load_emoji() == single


@pytest.mark.parametrize("text", TRICKY)
def test_tricky_sentences(
    analyzer: vader.SentimentIntensityAnalyzer, fast: FastVader, text: str
) -> None:
    _assert_agree(analyzer, fast, [text])


def test_tricky_sentences_cold_and_warm(analyzer: vader.SentimentIntensityAnalyzer) -> None:
    # a fresh instance learns tokens as it goes; the second pass is all cache hits
    fresh = FastVader()
    expected = [_reference(analyzer, text) for text in TRICKY]
    assert fresh.score_many(TRICKY) == expected
    assert fresh.score_many(TRICKY) == expected


@pytest.mark.parametrize("seed", [1, 7, 2024])
def test_simulator_messages(
    analyzer: vader.SentimentIntensityAnalyzer, fast: FastVader, seed: int
) -> None:
    assert _assert_agree(analyzer, fast, _simulator_texts(seed)) > 10_000


_MODIFIERS = (
    "not", "never", "no", "very", "so", "this", "but", "BUT", "kind", "of", "least", "at",
    "without", "doubt", "the", "bomb", "yeah", "right", "isn't", "don't", "KIND", "VERY",
    "or", "nor", "sort", "to", "die", "for", "kiss", "death", "bus", "stop", "really",
    "barely", "EXTREMELY", "nothing", "good", "bad", "GREAT", "hate", "love", ":)", ":(",
)
_PUNCT = ("!", "!!", "!!!", "?", "??", "???", "?!", "...", ",", ".", ":)", "'", '"', "(", ")")
_EMOJI = ("😁", "😡", "👍", "💔", "🙏", "🔛", "©", "❤", "😀", "🤬")


def _mutate(rng: random.Random, text: str) -> str:
    words = text.split()
    if rng.random() < 0.5:
        rng.shuffle(words)
    out: list[str] = []
    for word in words:
        roll = rng.random()
        if roll < 0.12:
            word = word.upper()
        elif roll < 0.16:
            word = word.capitalize()
        elif roll < 0.24:
            word = word + rng.choice(_PUNCT) if rng.random() < 0.7 else rng.choice(_PUNCT) + word
        elif roll < 0.34:
            out.append(rng.choice(_MODIFIERS))
        elif roll < 0.37:
            word = rng.choice(_EMOJI) + word if rng.random() < 0.5 else word + rng.choice(_EMOJI)
        elif roll < 0.39:
            continue
        out.append(word)
    sep = rng.choice((" ", " ", "  ", "\t", " \n"))
    return sep.join(out) + rng.choice(("", "", "!", "!!!!!", "??", "????", " 😁", "?!"))


@pytest.mark.parametrize("seed", [3, 11])
def test_random_mutations(
    analyzer: vader.SentimentIntensityAnalyzer, fast: FastVader, seed: int
) -> None:
    rng = random.Random(seed)
    texts = [_mutate(rng, text) for text in _simulator_texts(seed, 12_000)]
    assert _assert_agree(analyzer, fast, texts) > 5_000


def test_score_many_equals_single(fast: FastVader) -> None:
    texts = [*TRICKY[:40], "", "ok"]
    assert fast.score_many(texts) == [fast.polarity_scores(t) for t in texts]
    assert fast.score_many([]) == []


def test_token_cache_is_bounded(monkeypatch: pytest.MonkeyPatch,
                                analyzer: vader.SentimentIntensityAnalyzer) -> None:
    monkeypatch.setattr(vader_fast, "_CACHE_LIMIT", 50)
    fresh = FastVader()
    texts = [f"order TS-{n} is good but late {n}" for n in range(100)] + TRICKY[:30]
    assert fresh.score_many(texts) == [_reference(analyzer, t) for t in texts]
    assert len(fresh._tokens) <= 50 + 10  # dropped between texts, so one text may overshoot
    assert fresh._known == set(fresh._tokens)
    assert fresh._hot == set(fresh._valences) and fresh._hot <= fresh._known


def test_round_half_even_equals_round() -> None:
    rng = random.Random(5)
    values = [rng.random() for _ in range(50_000)]
    values += [rng.uniform(-1.0, 1.0) for _ in range(50_000)]
    values += [a / b for b in range(1, 80) for a in range(0, b + 1)]
    values += [k / 2000 for k in range(-2000, 2001)] + [k / 20000 for k in range(-20000, 20001)]
    values += [0.0, -0.0, 1e-9, -1e-9, 0.0005, 0.0015, 0.00005, -0.00005, 0.99995, -0.99995]
    for x in values:
        for ndigits in (3, 4):
            got = round_half_even(x, 10.0**ndigits, ndigits)
            want = round(x, ndigits)
            assert got == want and math.copysign(1, got) == math.copysign(1, want), (x, ndigits)
