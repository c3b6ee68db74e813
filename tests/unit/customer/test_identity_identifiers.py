"""Normalisation of person identifiers: canonical forms, malformed and blocked values, hashing."""

from __future__ import annotations

import pytest

from streams.customer.identifiers import (
    NormalisationPolicy,
    hash_value,
    hashed,
    normalise,
    normalise_email,
    normalise_identifiers,
    normalise_phone,
    usable,
)


def test_email_is_trimmed_and_lower_cased() -> None:
    n = normalise_email("  Jane.Doe+News@Mail.Example.ORG ")
    assert (n.value, n.status) == ("jane.doe+news@mail.example.org", "ok")
    assert n.raw == "  Jane.Doe+News@Mail.Example.ORG "


@pytest.mark.parametrize("raw", ["jane", "jane@", "@mail.org", "jane@@mail.org", "jane@mail",
                                 "ja ne@mail.org", "jane..doe@mail.org", "jane@mail.c"])
def test_malformed_emails_are_kept_but_flagged(raw: str) -> None:
    n = normalise_email(raw)
    assert n.status == "malformed" and not n.usable
    assert n.raw == raw


@pytest.mark.parametrize(("raw", "reason"), [
    ("test@test.com", "test address"),
    ("someone@example.com", "test address"),
    ("null", "placeholder"),
    ("undefined", "placeholder"),
    ("INFO@acme-widgets.io", "shared inbox"),
    ("sales@acme-widgets.io", "shared inbox"),
    ("support+eu@acme-widgets.io", "shared inbox"),
    ("noreply@acme-widgets.io", "shared inbox"),
])
def test_blocked_emails(raw: str, reason: str) -> None:
    n = normalise_email(raw)
    assert (n.status, n.reason) == ("blocked", reason)
    assert not n.usable


def test_gmail_rule_is_an_option_off_by_default() -> None:
    assert normalise_email("J.Doe+promo@gmail.com").value == "j.doe+promo@gmail.com"
    on = NormalisationPolicy(gmail_canonical=True)
    assert normalise_email("J.Doe+promo@googlemail.com", on).value == "jdoe@gmail.com"
    assert normalise_email("j.doe+promo@outlook.com", on).value == "j.doe+promo@outlook.com"


def test_phone_to_e164() -> None:
    assert normalise_phone("+44 20 7946 0958").value == "+442079460958"
    gb = NormalisationPolicy(default_region="GB")
    assert normalise_phone("(020) 7946-0958", gb).value == "+442079460958"
    assert normalise_phone("+1 (650) 253-0000").status == "ok"


@pytest.mark.parametrize("raw", ["12", "not a phone", "020 7946 0958", "+44 12"])
def test_malformed_phones(raw: str) -> None:
    # "020 7946 0958" has no country code and no default region: it cannot be placed.
    n = normalise_phone(raw)
    assert n.status == "malformed" and not n.usable and n.raw == raw


@pytest.mark.parametrize("raw", ["0000000000", "+1 111-111-1111", "9999999", "1234567890", "null"])
def test_placeholder_phones_are_blocked(raw: str) -> None:
    assert normalise_phone(raw).status == "blocked"


def test_ids_are_trimmed_and_placeholders_blocked() -> None:
    assert normalise("customer_id", "  C-42 ").value == "C-42"
    assert normalise("anonymous_id", "undefined").status == "blocked"
    assert normalise("device_id", "00000000-0000-0000-0000-000000000000").status == "blocked"
    assert normalise("anonymous_id", "   ").status == "malformed"


def test_record_normalisation_keeps_flagged_values_but_usable_drops_them() -> None:
    record = {"customer_id": " C1 ", "email": "test@test.com", "phone": "+44 20 7946 0958",
              "anonymous_id": None, "device_id": "null"}
    normalised = normalise_identifiers(record)
    assert [n.kind for n in normalised] == ["customer_id", "email", "phone", "device_id"]
    assert [n.status for n in normalised] == ["ok", "blocked", "ok", "blocked"]
    assert usable(normalised) == (("customer_id", "C1"), ("phone", "+442079460958"))


def test_non_string_values_are_malformed() -> None:
    (n,) = normalise_identifiers({"customer_id": 42})
    assert n.status == "malformed"


def test_salted_hashing() -> None:
    a = hash_value("jane@mail.org", b"salt-1")
    assert a == hash_value("jane@mail.org", b"salt-1")
    assert a != hash_value("jane@mail.org", b"salt-2")
    assert len(a) == 64 and "jane" not in a
    with pytest.raises(ValueError, match="salt"):
        hash_value("jane@mail.org", b"")
    n = hashed(normalise_email("Jane@Mail.org"), b"salt-1")
    assert n.value == a and n.raw == a and n.usable
    kept = normalise("customer_id", "C1")
    assert hashed(kept, b"salt-1") is kept
