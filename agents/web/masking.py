"""Masking of personal data (emails and phone numbers) in what the HTTP API returns.

Invariants:
- ``mask_personal`` returns a copy; values are masked in place of their text, keys and
  structure are kept, non-text values pass unchanged.
- A masked email keeps its first character and its top-level domain (``a***@***.com``); a
  masked phone keeps its last two digits (``+*********67``). Emails and phone-like digit runs
  (7+ digits, with spaces, dots, dashes or brackets between) are found in free text too.
- Who sees unmasked values is the caller's decision (``reveals``): the ``operate`` role
  always, the ``read`` role and anonymous local callers only when the setting allows.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

_EMAIL: Final = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+")
_PHONE: Final = re.compile(r"(?<![\w])\+?\(?\d[\d\s().\-]{5,}\d(?![\w])")
_DATE: Final = re.compile(r"\d{4}-\d{2}-\d{2}|\d{2}:\d{2}")
_EMAIL_KEYS: Final = frozenset({"email", "emails"})
_PHONE_KEYS: Final = frozenset({"phone", "phones", "phone_number", "mobile"})


def reveals(role: str | None, show_personal_data: bool) -> bool:
    return role == "operate" or show_personal_data


def mask_email(email: str) -> str:
    local, at, domain = email.strip().rpartition("@")
    if not at or not local:
        return "***"
    tld = domain.rsplit(".", 1)[-1] if "." in domain else ""
    return f"{local[0]}***@***" + (f".{tld}" if tld else "")


def mask_phone(phone: str) -> str:
    digits = [c for c in phone if c.isdigit()]
    if len(digits) <= 2:
        return "***"
    return ("+" if phone.strip().startswith("+") else "") + "*" * (len(digits) - 2) + "".join(
        digits[-2:])


def mask_text(text: str) -> str:
    """Free text with every email and phone-like number in it masked."""
    text = _EMAIL.sub(lambda m: mask_email(m.group(0)), text)

    def phone(match: re.Match[str]) -> str:
        value = match.group(0)
        if _DATE.search(value) or sum(c.isdigit() for c in value) < 7:
            return value  # a date or a short number, not a phone
        return mask_phone(value)

    return _PHONE.sub(phone, text)


def mask_personal(value: Any, key: str | None = None) -> Any:
    """``value`` (a mapping, list or scalar, as returned to a caller) with emails and phones
    masked: fields named like ``email``/``phone`` entirely, other text where it holds one."""
    if isinstance(value, Mapping):
        return {k: mask_personal(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_personal(v, key) for v in value]
    if isinstance(value, str):
        name = (key or "").lower()
        if name in _EMAIL_KEYS:
            return mask_email(value) if value else value
        if name in _PHONE_KEYS:
            return mask_phone(value) if value else value
        return mask_text(value)
    return value
