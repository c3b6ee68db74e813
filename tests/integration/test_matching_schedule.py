"""The scheduled probabilistic matching in a worker on the real broker and engine: with
``TOUCHSTREAM_CUSTOMER_MATCHING_INTERVAL_MINUTES`` set, the worker that owns partition 0 of
``identity.links`` (beside the scheduled attribution, which consumes it too) makes the
schedule's entry once identity resolution publishes links, runs the matching of the CRM records
when it falls due and publishes what it found; the worker keeps processing throughout."""

from __future__ import annotations

from typing import Any

import pytest

from streams.io.producer import produce_records
from streams.simulators.customers import customers
from tests.integration.conftest import Pipeline
from tests.integration.test_customer import _wait

pytestmark = pytest.mark.integration


def test_a_worker_runs_the_matching_on_its_schedule(pipeline: Pipeline) -> None:
    people, identity_phase, converted = customers(20, seed=7)
    pipeline.env.update({"TOUCHSTREAM_CUSTOMER_MATCHING_INTERVAL_MINUTES": "0.05",
                         "TOUCHSTREAM_CUSTOMER_ATTRIBUTION_INTERVAL_MINUTES": "0.05"})
    pipeline.start_worker()
    produce_records(pipeline.settings, identity_phase, encode=pipeline.codec.encode)
    querier = pipeline.querier()

    def profiles_in() -> tuple[bool, Any]:
        n = querier.sql("SELECT count() FROM customer_events FINAL WHERE kind = 'profile'"
                        ).rows[0][0]
        return n > 0, n

    _wait(profiles_in, 180, "CRM profile events resolved", pipeline)

    def ran() -> tuple[bool, Any]:
        logs = pipeline.worker_logs()
        return "matching run:" in logs, logs.count("matching run:")

    _wait(ran, 120, "a scheduled matching run published", pipeline)
    # both schedules share identity.links: the attribution ran too, and nothing failed
    _wait(lambda: ("attribution run ar-" in pipeline.worker_logs(), None), 120,
          "a scheduled attribution run", pipeline)
    logs = pipeline.worker_logs()
    assert "matching run failed" not in logs
    produce_records(pipeline.settings, converted, encode=pipeline.codec.encode)
    n_conversions = sum(len(p.conversions) for p in people)

    def converted_all() -> tuple[bool, Any]:
        n = querier.sql("SELECT count() FROM customer_events FINAL "
                        "WHERE kind = 'conversion'").rows[0][0]
        return n == n_conversions, n

    _wait(converted_all, 180, "every conversion resolved after the runs", pipeline)
