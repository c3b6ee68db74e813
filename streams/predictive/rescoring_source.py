"""Where rescoring reads persons' latest profiles: ``customer_profiles`` and
``customer_events`` in ClickHouse, as ``customer.profiles`` values.

``profiles(query, persons)`` takes ``query(sql, params) -> rows`` (rows as mappings; values
bound by the engine, never put into the text), as ``streams.customer.profile_queries`` does.

Invariants:
- a person's profile is the row of the highest ``version`` (``_version``) in
  ``customer_profiles``; persons without a row are absent from the answer;
- ``recent`` holds the person's newest ``recent_limit`` interactions (touchpoints and
  conversions, one version per event: the latest), oldest first, as the profile keeps them;
- a failing query raises ``Unavailable`` (the caller waits and tries again), never a result
  with fewer persons than ClickHouse holds.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from streams.kernel.errors import Unavailable

Row = Mapping[str, Any]
Query = Callable[[str, Mapping[str, Any]], Sequence[Row]]

PROFILES_SQL: Final = (
    "SELECT person_id, argMax(tuple(version, toUnixTimestamp64Milli(updated_at), "
    "toUnixTimestamp64Milli(first_seen), toUnixTimestamp64Milli(last_seen), identifiers, "
    "attributes, tags, lifecycle_stage, channels, touchpoints, conversions, revenue_currencies, "
    "revenue_amounts, score_names, score_values, merged_into), _version) AS p "
    "FROM customer_profiles WHERE person_id IN {persons:Array(String)} GROUP BY person_id")
EVENTS_SQL: Final = (
    "SELECT person_id, event_id, e_kind AS kind, toUnixTimestamp64Milli(at) AS at_ms, "
    "e_type AS type, e_channel AS channel, e_campaign AS campaign_id, e_value AS value, "
    "e_currency AS currency FROM ("
    "SELECT person_id, event_id, argMax(kind, _version) AS e_kind, "
    "argMax(occurred_at, _version) AS at, argMax(type, _version) AS e_type, "
    "argMax(channel, _version) AS e_channel, argMax(campaign_id, _version) AS e_campaign, "
    "argMax(value, _version) AS e_value, argMax(currency, _version) AS e_currency "
    "FROM customer_events WHERE person_id IN {persons:Array(String)} "
    "AND kind IN ('touchpoint', 'conversion') GROUP BY person_id, event_id) "
    "ORDER BY person_id, at DESC, event_id DESC LIMIT {limit:UInt32} BY person_id")
FIELDS: Final = ("version", "updated_at", "first_seen", "last_seen", "identifiers", "attributes",
                 "tags", "lifecycle_stage", "channels", "touchpoints", "conversions")


def _profile(person: str, p: Sequence[Any], recent: list[dict[str, Any]]) -> dict[str, Any]:
    value: dict[str, Any] = {"person_id": person, **dict(zip(FIELDS, p[:11], strict=True))}
    value.update(identifiers=list(value["identifiers"]), attributes=dict(value["attributes"]),
                 tags=list(value["tags"]), channels=list(value["channels"]),
                 revenue=dict(zip(p[11], p[12], strict=True)),
                 scores=dict(zip(p[13], p[14], strict=True)), merged_into=p[15],
                 recent=recent)
    return value


def profiles(query: Query, persons: Sequence[str], recent_limit: int = 50
             ) -> dict[str, dict[str, Any]]:
    """The latest profile of each of ``persons`` that ClickHouse holds."""
    if not persons:
        return {}
    params = {"persons": list(persons), "limit": recent_limit}
    try:
        rows = query(PROFILES_SQL, params)
        events = query(EVENTS_SQL, params)
    except Unavailable:
        raise
    except Exception as exc:  # the client's own errors: the engine or the server is away
        raise Unavailable("clickhouse", f"{type(exc).__name__}: {exc}") from exc
    recent: dict[str, list[dict[str, Any]]] = {}
    for e in events:
        recent.setdefault(str(e["person_id"]), []).append({
            "event_id": e["event_id"], "kind": e["kind"], "occurred_at": int(e["at_ms"]),
            "type": e["type"], "channel": e["channel"], "campaign_id": e["campaign_id"],
            "value": e["value"], "currency": e["currency"]})
    return {str(r["person_id"]): _profile(str(r["person_id"]), r["p"],
                                          recent.get(str(r["person_id"]), [])[::-1])
            for r in rows}
