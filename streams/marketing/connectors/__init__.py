"""Ad-platform connectors: Google Ads, Meta Insights, an email platform and GA4 web analytics.

Each pulls its platform's documented REST/JSON reports into ``ad.metrics`` (and, for email
events, ``touchpoints``) records, with a resumable cursor, a restatement window, rate-limit
waits and retries; rows that break the contract come back as rejects with a reason.
"""
