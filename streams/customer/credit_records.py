"""The ``attribution.credits`` records (v2) of a step: the step's ``attribution_credits`` rows
folded into one record per conversion and person, carrying its lines.

A step may credit one conversion several times (a late touchpoint, a merge's hand-over, a
split), and each time writes a row per (model, touchpoint). One record per row (v1) put
about three records on the topic for each input event; one per conversion and step carries
the same information in one record of a few dozen lines.

Invariants:
- the lines of a record are what the step's rows leave in the table: per (model, touchpoint)
  the last row written (a line of credit 0 withdraws an earlier one), in the order each key
  was first written;
- per conversion, one record for each run of its rows (in the order written) that name the
  same person, in that order: a split's withdrawn lines keep the person that held them, and
  applying a conversion's records in order, the last line per key winning, leaves what its
  rows leave (in practice one record per conversion and person); keyed by the conversion id
  like v1, so a conversion's records stay on one partition in the order they were made.
"""

from __future__ import annotations

from typing import Any, Final

from streams.customer import contract as names
from streams.kernel.records import Columns, OutputRecord

#: the fields of a line, in the order of the schema
LINE_FIELDS: Final = ("model", "touchpoint_id", "channel", "campaign_id", "occurred_at",
                      "credit", "revenue_credit")
#: the v1 fields a v2 record leaves empty (its lines carry them)
_V1_ONLY: Final = {name: None for name in LINE_FIELDS}


def credit_records(rows: Columns) -> list[OutputRecord]:
    """The ``attribution.credits`` values of ``rows`` (the columns of ``attribution_credits``):
    per conversion, one for each run of its rows that name the same person."""
    runs: list[tuple[str, str, dict[tuple[str, str], dict[str, Any]], list[int]]] = []
    open_run: dict[str, int] = {}  # conversion -> its current run
    for i, (conversion, person, model, touchpoint, channel, campaign, at, credit, revenue) in (
            enumerate(zip(rows["conversion_id"], rows["person_id"], rows["model"],
                          rows["touchpoint_id"], rows["channel"], rows["campaign_id"],
                          rows["occurred_at"], rows["credit"], rows["revenue_credit"],
                          strict=True))):
        r = open_run.get(conversion)
        if r is None or runs[r][1] != person:
            r = open_run[conversion] = len(runs)
            runs.append((conversion, person, {}, [i]))
        run = runs[r]
        run[2][model, touchpoint] = {"model": model, "touchpoint_id": touchpoint,
                                     "channel": channel, "campaign_id": campaign,
                                     "occurred_at": at, "credit": credit,
                                     "revenue_credit": revenue}
        run[3][0] = i
    return [OutputRecord(names.ATTRIBUTION_CREDITS, conversion, {
        "person_id": person, "conversion_id": conversion,
        "conversion_at": rows["conversion_at"][i], "model_version": rows["model_version"][i],
        "currency": rows["currency"][i], "lines": list(lines.values()), **_V1_ONLY})
        for conversion, person, lines, (i,) in runs]
