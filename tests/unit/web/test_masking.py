"""Masking of emails and phones for callers who may not see them."""

from __future__ import annotations

import datetime as dt

from agents.web.masking import mask_email, mask_personal, mask_phone, mask_text, reveals


def test_email_and_phone_masks() -> None:
    assert mask_email("ann.smith@example.com") == "a***@***.com"
    assert mask_email("nonsense") == "***"
    assert mask_phone("+15551234567") == "+*********67"
    assert mask_phone("(555) 123-4567") == "********67"


def test_free_text_is_masked_where_it_holds_one() -> None:
    text = "Reach me at Ann.Smith@Example.com or +1 555 123 4567, order 12345 on 2026-12-04 10:30"
    masked = mask_text(text)
    assert "Ann.Smith" not in masked and "Example" not in masked
    assert "555 123" not in masked and masked.count("67") >= 1
    assert "order 12345" in masked and "2026-12-04 10:30" in masked


def test_records_keep_their_shape() -> None:
    when = dt.datetime(2026, 12, 4, tzinfo=dt.UTC)
    record = {"email": "ann@example.com", "phone": "+15551234567", "customer_id": "cust-1",
              "messages": [{"text": "mail ann@example.com", "occurred_at": when, "score": -0.5}],
              "count": 3, "nothing": None}
    masked = mask_personal(record)
    assert masked["email"] == "a***@***.com" and masked["phone"] == "+*********67"
    assert masked["customer_id"] == "cust-1" and masked["count"] == 3 and masked["nothing"] is None
    assert masked["messages"][0] == {"text": "mail a***@***.com", "occurred_at": when,
                                     "score": -0.5}
    assert record["email"] == "ann@example.com"  # a copy


def test_who_sees_what() -> None:
    assert reveals("operate", False)
    assert not reveals("read", False) and not reveals(None, False)
    assert reveals("read", True) and reveals(None, True)
