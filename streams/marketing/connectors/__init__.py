"""Ad-platform connectors: Google Ads, Meta Insights, an email platform and GA4 web analytics.

Each pulls its platform's documented REST/JSON reports into ``ad.metrics`` (and, for email
events, ``touchpoints``) records, with a resumable cursor, a restatement window, rate-limit
waits and retries; rows that break the contract come back as rejects with a reason. The
wiring is expected to look like::

    connector = GoogleAdsConnector(GoogleAdsConfig(base_url=..., account_ids=(...,), ...))
    async for chunk in connector.pull_chunks(Cursor.from_json(saved_cursor)):
        produce(chunk.metrics, chunk.touchpoints)   # ad.metrics / touchpoints
        dead_letter(chunk.rejects)                  # each with its reason and raw row
        save(chunk.cursor.to_json())                # only after both are durable

every ``config.schedule_seconds``; PlatformUnavailable means "try again later from the same
cursor", PlatformError means "a person must look" (credentials, permissions, a bad query).
"""
