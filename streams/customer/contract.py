"""The customer domain's contract: its topics (logical names; manifests in
``schemas/topics/``) and its ClickHouse tables (DDL in ``schemas/clickhouse/``).

The inputs are keyed by one identifier of a person; identity resolution needs all of them in
one place, so the inputs stage re-keys every event to ``identity.observations`` (one key, one
partition: a single writer owns the graph), and the identity stage re-keys each event by its
resolved person to ``customer.events``, which the profile stage consumes."""

from __future__ import annotations

from typing import Final

# topics
TOUCHPOINTS: Final = "touchpoints"
CONVERSIONS: Final = "conversions"
CRM_PROFILES: Final = "crm.profiles"
IDENTITY_OBSERVATIONS: Final = "identity.observations"
CUSTOMER_EVENTS: Final = "customer.events"
IDENTITY_LINKS: Final = "identity.links"
CUSTOMER_PROFILES: Final = "customer.profiles"
ATTRIBUTION_CREDITS: Final = "attribution.credits"

INPUTS: Final = (TOUCHPOINTS, CONVERSIONS, CRM_PROFILES)
#: the conversation domain's output this domain also consumes: an ended chat is a touchpoint
#: (channel ``chat``), so a support conversation can earn attribution credit
CONVERSATION_INSIGHTS: Final = "conversation.insights"
#: topics between the domain's stages (inputs of a stage, with dead-letter topics)
INTERNAL: Final = (IDENTITY_OBSERVATIONS, CUSTOMER_EVENTS)
OUTPUTS: Final = (IDENTITY_LINKS, CUSTOMER_PROFILES, ATTRIBUTION_CREDITS)

#: the key of every record on identity.observations (one partition holds them all)
OBSERVATION_KEY: Final = "identity"

# tables
CUSTOMER_INPUTS_TABLE: Final = "customer_inputs"
CUSTOMER_EVENTS_TABLE: Final = "customer_events"
IDENTITY_LINKS_TABLE: Final = "identity_links"
CUSTOMER_PROFILES_TABLE: Final = "customer_profiles"
ATTRIBUTION_CREDITS_TABLE: Final = "attribution_credits"
#: the Markov and Shapley credits of each attribution run (a version per run)
ATTRIBUTION_MODEL_CREDITS_TABLE: Final = "attribution_model_credits"
