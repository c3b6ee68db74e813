"""One contract for each table and topic: the Python column tuples, the ClickHouse DDL and the
Avro schemas agree.

Tables: for every table the pipeline writes, the column tuple that fills it must equal the
columns the embedded engine reports after the migrations, minus the columns the engine fills
itself (``ENGINE_FILLED``, each a DEFAULT in the DDL). Compared as sets, not in order: the
sink inserts by column name (an Arrow table with named columns), so order changes nothing,
and a later ``ALTER TABLE ... ADD COLUMN`` migration places a column wherever it says, which a
tuple need not mirror. Duplicates are checked apart, since a set would hide them. Then rows
built by the real functions from sample input carry exactly the tuple's columns and insert
into the migrated tables.

Topics: every output topic's Avro fields equal the keys of the records the real functions
build, and each topic written from a table's columns differs from that table only by the
columns named in ``TOPIC_VS_TABLE``.

Covered: every migrated table's column tuple against its DDL (every domain's). Rows built from
sample input and the Avro fields of output topics: the conversation and marketing domains and
the kernel's dead letters; the customer, predictive and workflows domains' rows and records
(``OTHER_DOMAINS``) are built by their stages' own tests. Any other migrated table or output
topic fails the coverage tests until it is added.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from streams import topics as all_topics
from streams.contract.manifest import load_topics
from streams.conversation import contract as conversation
from streams.conversation import records, rollup
from streams.conversation import stage as chat_stage
from streams.customer import attribution_run, identity_stage, inputs_stage, profile_stage
from streams.customer import contract as customer
from streams.ingest.deadletters import ingest_dead_letter_columns, rejected
from streams.io.clickhouse import ClickHouse
from streams.io.migrate import MIGRATIONS_TABLE, migrate
from streams.kernel.deadletter import DEAD_LETTER_COLUMNS, dead_letter, dead_letter_columns
from streams.kernel.errors import InvalidMessage
from streams.kernel.paths import SCHEMAS_DIR
from streams.kernel.records import Columns, OutputRecord, Raw
from streams.kernel.stage import Events
from streams.kernel.topics import DEAD_LETTERS_TABLE, dlq
from streams.marketing import anomaly_stage, approval, kpis, rates, recommendations
from streams.marketing import contract as marketing
from streams.marketing.anomaly import Alert
from streams.marketing.rules import Recommendation
from streams.predictive import contract as predictive
from streams.predictive import scoring
from streams.workflows import contract as workflows
from streams.workflows import delivery
from streams.workflows import records as workflow_records

T0 = 1_767_225_600_000  # 2026-01-01 00:00:00 UTC
CID = "conv-1"

#: Every table the pipeline writes, with the column tuple that fills it.
COLUMN_TUPLES: dict[str, tuple[str, ...]] = {
    conversation.CHAT_EVENTS_TABLE: rollup.EVENT_COLUMNS,
    conversation.CONVERSATIONS_TABLE: rollup.CONVERSATION_COLUMNS,
    conversation.CONVERSATION_STATES_TABLE: records.STATE_COLUMNS,
    conversation.ESCALATIONS_TABLE: records.ESCALATION_COLUMNS,
    conversation.CRM_TASKS_TABLE: records.TASK_COLUMNS,
    marketing.CAMPAIGN_KPIS_TABLE: kpis.KPI_COLUMNS,
    marketing.CAMPAIGN_LEVERS_TABLE: recommendations.LEVER_COLUMNS,
    marketing.RECOMMENDATIONS_TABLE: recommendations.RECOMMENDATION_COLUMNS,
    marketing.CURRENCY_RATES_TABLE: rates.RATE_COLUMNS,
    marketing.ANOMALIES_TABLE: anomaly_stage.ANOMALY_COLUMNS,
    DEAD_LETTERS_TABLE: DEAD_LETTER_COLUMNS,
    customer.CUSTOMER_INPUTS_TABLE: inputs_stage.INPUT_COLUMNS,
    customer.CUSTOMER_EVENTS_TABLE: identity_stage.EVENT_COLUMNS,
    customer.IDENTITY_LINKS_TABLE: identity_stage.LINK_COLUMNS,
    customer.CUSTOMER_PROFILES_TABLE: profile_stage.PROFILE_COLUMNS,
    customer.ATTRIBUTION_CREDITS_TABLE: profile_stage.CREDIT_COLUMNS,
    customer.ATTRIBUTION_MODEL_CREDITS_TABLE: attribution_run.RUN_COLUMNS,
    predictive.CUSTOMER_SCORES_TABLE: scoring.SCORE_COLUMNS,
    workflows.WORKFLOW_ACTIONS_TABLE: workflow_records.ACTION_COLUMNS,
    workflows.AUDIENCE_MEMBERS_TABLE: delivery.AUDIENCE_COLUMNS,
}
#: Columns the engine fills itself (a DEFAULT in the DDL); no tuple names them.
ENGINE_FILLED: dict[str, frozenset[str]] = {
    conversation.CHAT_EVENTS_TABLE: frozenset({"_ingested_at"}),
    conversation.CONVERSATIONS_TABLE: frozenset({"_updated_at"}),
    conversation.CONVERSATION_STATES_TABLE: frozenset({"_updated_at"}),
    conversation.ESCALATIONS_TABLE: frozenset({"_ingested_at"}),
    conversation.CRM_TASKS_TABLE: frozenset({"_updated_at"}),
    marketing.CAMPAIGN_KPIS_TABLE: frozenset({"_ingested_at"}),
    marketing.CAMPAIGN_LEVERS_TABLE: frozenset({"_ingested_at"}),
    marketing.RECOMMENDATIONS_TABLE: frozenset({"_ingested_at"}),
    marketing.CURRENCY_RATES_TABLE: frozenset({"_ingested_at"}),
    marketing.ANOMALIES_TABLE: frozenset({"_ingested_at"}),
    DEAD_LETTERS_TABLE: frozenset({"_ingested_at"}),
    customer.CUSTOMER_INPUTS_TABLE: frozenset({"_ingested_at"}),
    customer.CUSTOMER_EVENTS_TABLE: frozenset({"_ingested_at"}),
    customer.IDENTITY_LINKS_TABLE: frozenset({"_ingested_at"}),
    customer.CUSTOMER_PROFILES_TABLE: frozenset({"_updated_at"}),
    customer.ATTRIBUTION_CREDITS_TABLE: frozenset({"_ingested_at"}),
    customer.ATTRIBUTION_MODEL_CREDITS_TABLE: frozenset({"_ingested_at"}),
    predictive.CUSTOMER_SCORES_TABLE: frozenset({"_ingested_at"}),
    workflows.WORKFLOW_ACTIONS_TABLE: frozenset({"_ingested_at"}),
    workflows.AUDIENCE_MEMBERS_TABLE: frozenset({"_ingested_at"}),
}
#: Tables of the migrations the pipeline does not write from its records.
NOT_WRITTEN_FROM_RECORDS = frozenset({MIGRATIONS_TABLE})
#: Domain contracts whose tables and output topics this module does not check yet.
OTHER_DOMAINS = (customer, predictive, workflows)  # their stages' tests build their rows
OTHER_TABLES = frozenset(value for domain in OTHER_DOMAINS
                         for name, value in vars(domain).items() if name.endswith("_TABLE"))
#: The tables whose rows this module builds from sample input.
SAMPLED_TABLES = sorted(set(COLUMN_TUPLES) - OTHER_TABLES)
OTHER_OUTPUTS = frozenset(topic for domain in OTHER_DOMAINS for topic in domain.OUTPUTS)
#: The output topics whose records are checked against their Avro schema.
CHECKED_OUTPUTS = (*conversation.OUTPUTS, *marketing.OUTPUTS)
#: topic -> (table, fields only the topic has, columns only the table has)
TOPIC_VS_TABLE: dict[str, tuple[str, frozenset[str], frozenset[str]]] = {
    marketing.CAMPAIGN_KPIS: (
        marketing.CAMPAIGN_KPIS_TABLE, frozenset(),
        frozenset({"_topic", "_partition", "_offset", "_kafka_ts", "_version"})),
    conversation.CONVERSATION_INSIGHTS: (
        conversation.CONVERSATIONS_TABLE,
        frozenset({"source_partition", "source_offset", "updated_at"}),
        frozenset({"_topic", "_partition", "_offset", "_version"})),
    conversation.ESCALATIONS: (
        conversation.ESCALATIONS_TABLE,
        frozenset({"recent_messages", "source_partition", "source_offset"}),
        frozenset({"context", "_topic", "_partition", "_offset", "_version"})),
    conversation.CRM_TASKS: (
        conversation.CRM_TASKS_TABLE, frozenset({"channel", "language", "intent"}),
        frozenset({"_version"})),
}


# --- sample input through the real functions ---------------------------------------------


def _chat_event(kind: str, at: int, role: str = "SYSTEM", text: str | None = None,
                **metadata: str) -> dict[str, Any]:
    return {"event_id": f"{CID}-{at}", "conversation_id": CID, "event_type": kind,
            "occurred_at": at, "channel": "WEB", "sender_role": role,
            "sender_id": "bot-1" if role == "BOT" else None, "text": text, "language": "en",
            "customer": {"customer_id": "cus-1", "email": "a@example.com", "phone": None,
                         "anonymous_id": None},
            "metadata": metadata}


def _conversation() -> tuple[dict[str, list[Columns]], list[OutputRecord]]:
    """A conversation that escalates and ends unresolved, through the conversation stage's
    step, then its follow-up task falling due through the stage's timer."""
    values = [
        _chat_event("STARTED", T0, customer_value="300"),
        _chat_event("MESSAGE", T0 + 1_000, "CUSTOMER", "how much is the team plan? I'd like to buy"),
        _chat_event("MESSAGE", T0 + 2_000, "BOT", "It is 20 per seat."),
        _chat_event("MESSAGE", T0 + 3_000, "CUSTOMER",
                    "that's a rip-off, this is terrible, I want to talk to a person now"),
        _chat_event("ENDED", T0 + 4_000),
    ]
    raws = [Raw(conversation.CHAT_EVENTS, 0, i, v["occurred_at"], CID.encode(), b"")
            for i, v in enumerate(values)]
    policy = chat_stage.ConversationPolicy(source_topic=conversation.CHAT_EVENTS,
                                           inactivity_ms=600_000, retain_ms=86_400_000,
                                           timer_interval=1.0)
    outcome = chat_stage.step(policy, Events(raws, values), lambda table, key: None,
                              T0 + 5_000)
    # as the runtime stores them: each table value carries its key's partition
    pending = [(key, {**value, "partition": partition}) for key, (partition, value) in
               outcome.changes.get(chat_stage.FOLLOW_UPS, {}).items() if value is not None]
    due = chat_stage.fall_due(pending, max((v["due_at"] for _, v in pending), default=T0))
    rows: dict[str, list[Columns]] = {}
    for result in (outcome.result, due.result):
        for table, cols in result.inserts.items():
            rows.setdefault(table, []).append(cols)
    return rows, [*outcome.result.outputs, *due.result.outputs]


def _ad_metric() -> dict[str, Any]:
    spec = load_topics()[marketing.AD_METRICS]
    path = sorted((SCHEMAS_DIR / "examples").glob(spec.examples_glob.removeprefix("examples/")))[0]
    value: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return value


def _dead_letters() -> list[Columns]:
    bad = Raw(conversation.CHAT_EVENTS, 2, 41, T0, b"k", b"\x00garbage", (("h", b"v"),))
    worker = dead_letter(bad, InvalidMessage("undecodable", "not Avro"),
                         dlq(conversation.CHAT_EVENTS), T0)
    refused = rejected("{\"event_id\": \"\"}", InvalidMessage("invalid_field", "event_id is empty"),
                       mode="gateway", source="sub:test", topic=conversation.CHAT_EVENTS,
                       dlq_topic=dlq(conversation.CHAT_EVENTS), now_ms=T0)
    dlq_topic, key, value, headers = refused.message()
    on_dlq = Raw(dlq_topic, 0, 7, T0, key, value,
                 tuple((k, v if isinstance(v, bytes) else (v or "").encode())
                       for k, v in headers))
    return [dead_letter_columns([worker]), ingest_dead_letter_columns([on_dlq])]


def _recommendations() -> Columns:
    """A recommendation submitted, as ``touchstream optimise run`` publishes it."""
    rec = Recommendation(rule="bid", action="set_bid", entity="campaign:GOOGLE_ADS:1",
                         campaign_id="GOOGLE_ADS:1", as_of_ms=T0, current=1.0, proposed=1.1,
                         change=0.1, expected_effect=3.0, confidence=0.9, rationale="raise",
                         data={"clicks": 900.0})
    ledger, rid = approval.submit(approval.Ledger(), rec, "optimiser", T0)
    record = recommendations.audit_records(ledger)[0]
    raw = Raw(marketing.RECOMMENDATIONS, 0, 3, T0, rid.encode(), b"")
    return recommendations.recommendation_columns([raw], [record.value])


@pytest.fixture(scope="module")
def samples() -> tuple[dict[str, list[Columns]], list[OutputRecord]]:
    rows, outputs = _conversation()
    metric = _ad_metric()
    raw = Raw(marketing.AD_METRICS, 1, 5, T0, b"GOOGLE_ADS:20418839211", b"")
    kpi_cols = kpis.kpi_columns([raw], [metric])
    rows.setdefault(marketing.CAMPAIGN_KPIS_TABLE, []).append(kpi_cols)
    outputs.extend(kpis.kpi_records(kpi_cols))
    rows.setdefault(marketing.CAMPAIGN_LEVERS_TABLE, []).append(
        recommendations.lever_columns([raw], [metric]))
    rows.setdefault(marketing.RECOMMENDATIONS_TABLE, []).append(_recommendations())
    alerts = anomaly_stage.Detected()
    anomaly_stage.add_alert(alerts, Alert("GOOGLE_ADS:1", "spend", "up", "new", "critical", T0,
                                          T0, 400.0, 100.0, 3.0, 9.5, 1), raw)
    rows.setdefault(marketing.ANOMALIES_TABLE, []).append(alerts.rows)
    outputs.extend(alerts.records)
    [rate] = rates.records_from_csv("day,currency,rate\n2026-01-01,EUR,1.1\n", "USD", "t", T0)
    rows.setdefault(marketing.CURRENCY_RATES_TABLE, []).append(rates.rate_columns(
        [Raw(marketing.CURRENCY_RATES, 0, 1, T0, rate.key.encode(), b"")], [rate.value]))
    rows.setdefault(DEAD_LETTERS_TABLE, []).extend(_dead_letters())
    return rows, outputs


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClickHouse]:
    """The migrated embedded engine; closed after this module (one data path per process)."""
    path: Path = tmp_path_factory.mktemp("columns") / "clickhouse"
    ch = ClickHouse(f"chdb://{path}")
    try:
        migrate(ch)
        yield ch
    finally:
        ch.close()


@pytest.fixture(scope="module")
def described(engine: ClickHouse) -> dict[str, dict[str, str]]:
    """table -> column -> default kind ("" when the writer must give it), as the engine
    reports them."""
    rows = engine.query(
        "SELECT table, name, default_kind FROM system.columns"
        " WHERE database = currentDatabase() ORDER BY table, position"
    ).rows
    out: dict[str, dict[str, str]] = {}
    for table, name, kind in rows:
        out.setdefault(str(table), {})[str(name)] = str(kind)
    return out


# --- tables ---------------------------------------------------------------------------------


def test_every_migrated_table_has_its_column_tuple(described: dict[str, dict[str, str]]) -> None:
    assert set(described) - NOT_WRITTEN_FROM_RECORDS == set(COLUMN_TUPLES)
    assert set(ENGINE_FILLED) == set(COLUMN_TUPLES)


def test_every_output_topic_is_checked() -> None:
    assert set(all_topics.OUTPUTS) - OTHER_OUTPUTS == set(CHECKED_OUTPUTS)


@pytest.mark.parametrize("table", sorted(COLUMN_TUPLES))
def test_column_tuple_is_the_table_minus_engine_filled(
        table: str, described: dict[str, dict[str, str]]) -> None:
    columns = COLUMN_TUPLES[table]
    engine_columns = described[table]
    assert len(set(columns)) == len(columns), f"{table}: a column is named twice"
    missing = set(engine_columns) - ENGINE_FILLED[table] - set(columns)
    unknown = set(columns) - set(engine_columns)
    assert not missing, f"{table}: the DDL has columns the tuple does not fill: {missing}"
    assert not unknown, f"{table}: the tuple has columns the DDL does not have: {unknown}"
    assert not set(columns) & ENGINE_FILLED[table]
    for name in ENGINE_FILLED[table]:
        assert engine_columns[name] in ("DEFAULT", "MATERIALIZED", "ALIAS"), (
            f"{table}.{name} is listed as filled by the engine but has no default")


@pytest.mark.parametrize("table", SAMPLED_TABLES)
def test_rows_built_by_the_code_fill_the_tuple_and_insert(
        table: str, samples: tuple[dict[str, list[Columns]], list[OutputRecord]],
        engine: ClickHouse) -> None:
    built = [cols for cols in samples[0].get(table, []) if any(cols.values())]
    assert built, f"the sample input wrote no {table} row"
    for cols in built:
        assert list(cols) == list(COLUMN_TUPLES[table])
        lengths = {name: len(values) for name, values in cols.items()}
        assert len(set(lengths.values())) == 1, f"{table}: unequal columns {lengths}"
        before = engine.query(f"SELECT count() FROM {table}").rows[0][0]
        engine.insert(table, cols)
        after = engine.query(f"SELECT count() FROM {table}").rows[0][0]
        assert after - before == len(cols[COLUMN_TUPLES[table][0]])


# --- topics ---------------------------------------------------------------------------------


def _avro_fields(topic: str) -> set[str]:
    return {f["name"] for f in load_topics()[topic].latest.schema["fields"]}


@pytest.mark.parametrize("topic", sorted(CHECKED_OUTPUTS))
def test_avro_fields_are_the_record_keys(
        topic: str, samples: tuple[dict[str, list[Columns]], list[OutputRecord]]) -> None:
    built = [r for r in samples[1] if r.topic == topic]
    assert built, f"the sample input produced no {topic} record"
    fields = _avro_fields(topic)
    for record in built:
        keys = set(record.value)
        assert keys == fields, (f"{topic}: only in the code {keys - fields}, "
                                f"only in the schema {fields - keys}")


def test_follow_up_tasks_are_checked_too(
        samples: tuple[dict[str, list[Columns]], list[OutputRecord]]) -> None:
    kinds = {r.value["task_type"] for r in samples[1] if r.topic == conversation.CRM_TASKS}
    assert kinds == {"escalation", "follow_up"}


@pytest.mark.parametrize("topic", sorted(TOPIC_VS_TABLE))
def test_topic_carries_its_table_columns(topic: str) -> None:
    table, topic_only, table_only = TOPIC_VS_TABLE[topic]
    fields = _avro_fields(topic)
    columns = set(COLUMN_TUPLES[table])
    assert topic_only <= fields and table_only <= columns
    assert fields - topic_only == columns - table_only, (
        f"{topic} vs {table}: only in the topic {fields - topic_only - columns}, "
        f"only in the table {columns - table_only - fields}")


def test_kpi_record_fields_derive_from_the_columns() -> None:
    assert set(kpis.KPI_FIELDS) == _avro_fields(marketing.CAMPAIGN_KPIS)
