"""Where the label guide (``shared/design/LABELS.md``) relabels the first two hand-written
phrasing sets, which were written under an earlier taxonomy.

Invariant: a relabel changes the intent of a phrasing (its ``group``) and of all its
variants, never its group or its split; the phrasing files stay as they were written.
"""

from __future__ import annotations

from typing import Final

LANGUAGES: Final = ("en", "es", "fr", "de", "pt")


def _guide_relabels() -> dict[str, str]:
    """Phrasings (``group``) whose intent the label guide (``shared/design/LABELS.md``) puts
    elsewhere than the phrasing files, which were written under the earlier taxonomy: the
    payment method or billing contact on file and deleting personal data are ``account``;
    quotes are ``pricing``; trials and what a plan includes are ``purchase_inquiry``. Kept as
    a table, so that the phrasing files, the groups and the splits stay as they were."""
    out: dict[str, str] = {}
    on_file = {"en": (2, 10, 20, 23), "es": (2, 10, 19, 22, 33), "fr": (10, 19, 22, 33),
               "de": (10, 19, 22, 33), "pt": (2, 19)}
    quotes = {"en": (6,), "es": (6, 46), "fr": (6,), "de": (6, 47), "pt": (6, 47)}
    trials = {"en": (3, 27), "es": (3, 17), "fr": (3, 17), "de": (3, 17), "pt": (3, 17)}
    # "delete my account and all my data": the guide puts deleting personal data in account
    erase = {"en": (7,), "es": (7, 20), "fr": (7,), "de": (7,), "pt": (7,)}
    for lang in LANGUAGES:
        out.update({f"{lang}/billing/{i}": "account" for i in on_file[lang]})
        out.update({f"{lang}/purchase_inquiry/{i}": "pricing" for i in quotes[lang]})
        out.update({f"{lang}/pricing/{i}": "purchase_inquiry" for i in trials[lang]})
        out.update({f"{lang}/cancellation/{i}": "account" for i in erase[lang]})
        # the second set's billing phrasings are all about the card on file, but one
        # ("Which credit cards do you take", en 17)
        count = 19 if lang == "en" else 9
        out.update({f"more/{lang}/billing/{i}": "account" for i in range(count) if
                    (lang, i) != ("en", 17)})
    return out


GUIDE_RELABELS: Final = _guide_relabels()


__all__ = ["GUIDE_RELABELS", "LANGUAGES"]
