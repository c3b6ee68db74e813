"""Normalising the identifiers of a person before identity resolution.

Every raw value seen on an event (the ``PersonIdentifiers`` record of ``touchpoint.v1.avsc``:
customer_id, email, phone, anonymous_id, device_id) becomes a ``Normalised`` value:

- the canonical form (emails trimmed and lower-cased, phones in E.164, ids trimmed) when the
  raw value parses, the trimmed raw value otherwise;
- ``status``: ``ok``, ``malformed`` (does not parse) or ``blocked`` (parses, but is a value many
  people share or a placeholder: test addresses, ``null``, all-same-digit phones, shared
  inboxes). Malformed and blocked values stay on the record for display and audit but are
  never used to merge: ``usable`` keeps only ``ok`` ones.

Normalisation is deterministic and pure. The gmail rule (dots and ``+tag`` ignored in the local
part of gmail.com / googlemail.com addresses) is an option of ``NormalisationPolicy``, off by
default, because it merges addresses that are distinct mailboxes at other providers.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal

import phonenumbers

IdentifierKind = Literal["customer_id", "email", "phone", "anonymous_id", "device_id", "record_id"]
Status = Literal["ok", "malformed", "blocked"]

PERSON_IDENTIFIER_FIELDS: Final[tuple[IdentifierKind, ...]] = (
    "customer_id",
    "email",
    "phone",
    "anonymous_id",
    "device_id",
)

# A pragmatic subset of RFC 5322: one @, a dot-atom local part, a domain of LDH labels with a TLD.
_EMAIL_RE: Final = re.compile(
    r"^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"
)
_GMAIL_DOMAINS: Final = frozenset({"gmail.com", "googlemail.com"})


@dataclass(frozen=True, slots=True)
class NormalisationPolicy:
    """Which values are placeholders or shared, and how emails and phones are read."""

    # Region assumed for phone numbers written without a country code (ISO 3166-1 alpha-2).
    default_region: str | None = None
    gmail_canonical: bool = False
    blocked_values: frozenset[str] = frozenset(
        {"null", "none", "undefined", "nil", "n/a", "na", "unknown", "test", "0", "-", "[object object]"}
    )
    blocked_email_domains: frozenset[str] = frozenset(
        {"example.com", "example.org", "example.net", "test.com", "email.com", "domain.com",
         "mailinator.com", "localhost"}
    )
    blocked_emails: frozenset[str] = frozenset({"test@test.com", "a@a.com", "no@email.com"})
    # Shared or role inboxes: many people write from them, so they identify nobody.
    shared_local_parts: frozenset[str] = frozenset(
        {"info", "sales", "support", "noreply", "no-reply", "donotreply", "do-not-reply", "admin",
         "contact", "hello", "office", "help", "billing", "marketing", "team", "webmaster",
         "postmaster", "abuse", "test"}
    )
    blocked_phone_digits: frozenset[str] = frozenset({"1234567890", "0123456789", "1234567"})
    min_id_length: int = 1


DEFAULT_NORMALISATION: Final = NormalisationPolicy()


@dataclass(frozen=True, slots=True)
class Normalised:
    """One identifier value as seen, its canonical form and whether it may be used to merge."""

    kind: IdentifierKind
    raw: str
    value: str
    status: Status
    reason: str | None = None

    @property
    def usable(self) -> bool:
        return self.status == "ok"


def normalise_email(raw: str, policy: NormalisationPolicy = DEFAULT_NORMALISATION) -> Normalised:
    value = raw.strip().lower()
    if value in policy.blocked_values:
        return Normalised("email", raw, value, "blocked", "placeholder")
    if not _EMAIL_RE.match(value) or ".." in value:
        return Normalised("email", raw, value, "malformed", "email syntax")
    local, domain = value.rsplit("@", 1)
    if policy.gmail_canonical and domain in _GMAIL_DOMAINS:
        local = local.split("+", 1)[0].replace(".", "")
        value = f"{local}@gmail.com"
    if value in policy.blocked_emails or domain in policy.blocked_email_domains:
        return Normalised("email", raw, value, "blocked", "test address")
    if local.split("+", 1)[0] in policy.shared_local_parts:
        return Normalised("email", raw, value, "blocked", "shared inbox")
    return Normalised("email", raw, value, "ok")


def normalise_phone(raw: str, policy: NormalisationPolicy = DEFAULT_NORMALISATION) -> Normalised:
    stripped = raw.strip()
    digits = re.sub(r"\D", "", stripped)
    if stripped.lower() in policy.blocked_values:
        return Normalised("phone", raw, stripped, "blocked", "placeholder")
    if digits and (len(set(digits)) == 1 or digits in policy.blocked_phone_digits):
        return Normalised("phone", raw, stripped, "blocked", "placeholder digits")
    try:
        parsed = phonenumbers.parse(stripped, policy.default_region)
    except phonenumbers.NumberParseException:
        return Normalised("phone", raw, stripped, "malformed", "phone syntax")
    if not phonenumbers.is_valid_number(parsed):
        return Normalised("phone", raw, stripped, "malformed", "not a valid number")
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    national = str(parsed.national_number)
    if len(set(national)) == 1 or national in policy.blocked_phone_digits:
        return Normalised("phone", raw, e164, "blocked", "placeholder digits")
    return Normalised("phone", raw, e164, "ok")


def normalise_id(
    kind: IdentifierKind, raw: str, policy: NormalisationPolicy = DEFAULT_NORMALISATION
) -> Normalised:
    value = raw.strip()
    if len(value) < policy.min_id_length:
        return Normalised(kind, raw, value, "malformed", "empty")
    if value.lower() in policy.blocked_values:
        return Normalised(kind, raw, value, "blocked", "placeholder")
    if value.isdigit() and len(set(value)) == 1 and len(value) > 1:
        return Normalised(kind, raw, value, "blocked", "placeholder digits")
    if set(value) <= {"0", "-"}:  # the zero UUID / zeroed advertising id
        return Normalised(kind, raw, value, "blocked", "placeholder")
    return Normalised(kind, raw, value, "ok")


def normalise(
    kind: IdentifierKind, raw: str, policy: NormalisationPolicy = DEFAULT_NORMALISATION
) -> Normalised:
    """The canonical form and status of one identifier of the given kind."""
    if kind == "email":
        return normalise_email(raw, policy)
    if kind == "phone":
        return normalise_phone(raw, policy)
    return normalise_id(kind, raw, policy)


def normalise_identifiers(
    identifiers: Mapping[str, object], policy: NormalisationPolicy = DEFAULT_NORMALISATION
) -> tuple[Normalised, ...]:
    """Every present value of a ``PersonIdentifiers`` record (a dict), in field order.

    Missing (None) fields are skipped; a non-string value is kept as malformed.
    """
    out: list[Normalised] = []
    for kind in PERSON_IDENTIFIER_FIELDS:
        raw = identifiers.get(kind)
        if raw is None:
            continue
        if not isinstance(raw, str):
            out.append(Normalised(kind, repr(raw), repr(raw), "malformed", "not a string"))
            continue
        out.append(normalise(kind, raw, policy))
    return tuple(out)


def usable(normalised: tuple[Normalised, ...]) -> tuple[tuple[IdentifierKind, str], ...]:
    """The ``(kind, value)`` pairs that identity resolution may merge on, deduplicated."""
    seen: dict[tuple[IdentifierKind, str], None] = {}
    for n in normalised:
        if n.usable:
            seen[(n.kind, n.value)] = None
    return tuple(seen)


def hash_value(value: str, salt: bytes) -> str:
    """Salted SHA-256 of a canonical value, hex, for storing emails and phones without the value.

    The same salt must be used everywhere the hashes are compared; equal canonical values give
    equal hashes, so hashed identifiers still merge.
    """
    if not salt:
        raise ValueError("a non-empty salt is required")
    return hashlib.sha256(salt + value.encode("utf-8")).hexdigest()


def hashed(n: Normalised, salt: bytes, kinds: frozenset[str] = frozenset({"email", "phone"})) -> Normalised:
    """The same identifier with its value (and raw form) replaced by the salted hash, for ``kinds``."""
    if n.kind not in kinds:
        return n
    digest = hash_value(n.value, salt)
    return Normalised(n.kind, digest, digest, n.status, n.reason)
