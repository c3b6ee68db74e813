"""The one settings object. Nothing else in touchstream reads the environment.

Every field is read from an environment variable ``TOUCHSTREAM_<FIELD>`` (upper case), or
from a TOML file named by ``TOUCHSTREAM_CONFIG`` (keys are the field names); environment
variables win over the file, the file wins over the defaults.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from streams.kernel.paths import PROJECT_ROOT

ENV_PREFIX = "TOUCHSTREAM_"
CONFIG_ENV = ENV_PREFIX + "CONFIG"

#: The repository root: default location of ``schemas/``, ``deploy/`` and local state.

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]


class Settings(BaseSettings):
    """Resolved once, frozen; pass it down instead of reading the environment."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, frozen=True, extra="ignore", case_sensitive=False
    )

    # --- Kafka -----------------------------------------------------------------------------
    kafka_bootstrap_servers: str = Field(
        "127.0.0.1:9092", description="Kafka bootstrap servers, comma separated."
    )
    kafka_security_protocol: SecurityProtocol = Field(
        "PLAINTEXT", description="PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL."
    )
    kafka_sasl_mechanism: SaslMechanism | None = Field(
        None, description="PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 when SASL is used."
    )
    kafka_sasl_username: str | None = Field(None, description="SASL user name.")
    kafka_sasl_password: SecretStr | None = Field(None, description="SASL password.")
    kafka_ssl_cafile: Path | None = Field(None, description="CA bundle for TLS.")
    kafka_ssl_certfile: Path | None = Field(None, description="Client certificate for mTLS.")
    kafka_ssl_keyfile: Path | None = Field(None, description="Client key for mTLS.")
    topic_prefix: str = Field(
        "", description="Prefix put before every logical topic name (e.g. `prod.`)."
    )
    topic_partitions: int = Field(
        6, ge=1, description="Partitions of topics created by `touchstream topics create`."
    )
    topic_replication_factor: int = Field(
        1, ge=1, description="Replication factor of topics created by touchstream."
    )
    schema_registry_url: str | None = Field(
        None,
        description="Confluent-compatible schema registry; unset: ids from `schemas/`.",
    )
    schema_registry_timeout_seconds: float = Field(
        5.0, gt=0, description="A schema registry request fails after this long; the worker "
        "then pauses and retries (with the sink back-off) instead of dead-lettering."
    )

    # --- Local broker (development, tests, demo) -----------------------------------------------
    kafka_version: str = Field(
        "4.4.0", description="Apache Kafka release resolved from Maven Central for `kafka up`."
    )
    kafka_heap: str = Field("768m", description="Max JVM heap of the local broker.")
    local_state_dir: Path = Field(
        PROJECT_ROOT / ".local",
        description="Where the local broker, embedded ClickHouse, pid files and the worker's "
        "own files (`worker/<app_id>`) keep state.",
    )
    cache_dir: Path = Field(
        PROJECT_ROOT / ".cache", description="Where resolved broker jars are cached."
    )
    kafka_local_ssl_keystore: Path | None = Field(
        None, description="PEM private key and certificate chain the local broker's listener "
        "presents when kafka_security_protocol is SASL_SSL (`kafka up` then creates the SASL "
        "user as a SCRAM credential)."
    )
    registry_version: str = Field(
        "3.3.3", description="Apicurio Registry release resolved from Maven Central for "
        "`registry up`."
    )
    registry_port: int = Field(
        8081, ge=1, le=65535, description="Port of the local schema registry (`registry up`); "
        "its Confluent-compatible API is `/apis/ccompat/v7`."
    )
    registry_management_port: int = Field(
        9001, ge=1, le=65535, description="Health port of the local schema registry."
    )

    # --- ClickHouse ------------------------------------------------------------------------------
    clickhouse_url: str = Field(
        "",
        description="`chdb:///path` (embedded engine) or `http(s)://user:pw@host:port/db`; "
        "default `chdb://<local_state_dir>/clickhouse`.",
    )

    # --- Worker ------------------------------------------------------------------------------
    app_id: str = Field(
        "touchstream", description="Faust app id: consumer group and changelog topic prefix."
    )
    web_host: str = Field("127.0.0.1", description="Bind address of the worker's HTTP server.")
    web_port: int = Field(6066, ge=1, le=65535, description="Port of the worker's HTTP server.")
    web_secret: SecretStr | None = Field(
        None, description="HMAC secret that signs and checks the worker's tokens (roles read, "
        "operate); required when web_host is not a loopback address."
    )
    web_token: SecretStr | None = Field(
        None, description="Token `touchstream sql` sends to the worker (a read token)."
    )
    web_require_token: bool = Field(
        False, description="Require a token on every endpoint but /health on loopback too "
        "(always required beyond loopback); for machines shared with other users."
    )
    web_allowed_origins: list[str] = Field(
        default_factory=list, description="Browser origins, besides the worker's own, allowed "
        "to send it requests (JSON list)."
    )
    web_show_personal_data: bool = Field(
        False, description="Show emails and phones to the read role (the operate role always "
        "sees them)."
    )
    web_query_max_rows: int = Field(
        100_000, ge=1, description="Most rows a `/sql` or insight query may return."
    )
    web_query_max_seconds: float = Field(
        30.0, gt=0, description="Longest a `/sql` or insight query may run."
    )
    step_max_events: int = Field(
        200, ge=1, description="Events computed in one step: a message waits for its step's "
        "computation, not for a whole batch's."
    )
    step_max_events_behind: int = Field(
        1000, ge=1, description="Events computed in one step while an agent is behind (see "
        "write_interval_behind_seconds): larger steps cost less CPU an event."
    )
    batch_max_events: int = Field(
        10_000, ge=1, description="Most events per write: steps computed while the previous "
        "write was under way are merged into one ClickHouse insert and one publish. A write "
        "takes every step waiting up to this many, so under live traffic it holds what arrived "
        "in write_interval_seconds, or during the previous write when that took longer."
    )
    write_interval_seconds: float = Field(
        0.25, ge=0, description="A write starts at most this often unless a batch's worth of "
        "events is waiting: fewer, larger ClickHouse inserts and flushes."
    )
    write_interval_behind_seconds: float = Field(
        1.0, ge=0, description="How often a write starts while an agent is behind (its oldest "
        "unprocessed event has waited this long): larger writes cost less CPU an event and "
        "drain a backlog faster; live traffic keeps write_interval_seconds."
    )
    batch_max_seconds: float = Field(
        0.2, gt=0, description="Longest wait before a partial step is computed."
    )
    fetch_min_bytes: int = Field(
        65_536, ge=1, description="A consumer fetch is answered once this much data is there..."
    )
    fetch_max_wait_ms: int = Field(
        50, ge=0, description="...or after this long: fewer, larger fetches under live traffic."
    )
    sink_retry_initial_seconds: float = Field(
        0.2, gt=0, description="First back-off after a failed ClickHouse insert."
    )
    sink_retry_max_seconds: float = Field(
        10.0, gt=0, description="Longest back-off between ClickHouse insert retries."
    )
    dlq_limit_invalid_ratio: float = Field(
        0.5, gt=0, le=1, description="The worker stops when more than this share of the last "
        "dlq_limit_window messages of a topic is dead-lettered (1: no limit)."
    )
    dlq_limit_window: int = Field(
        1000, ge=1, description="Messages of a topic over which the dead-lettered share is taken."
    )
    dlq_limit_consecutive: int = Field(
        1000, ge=0, description="The worker stops when more than this many messages of a topic "
        "in a row are dead-lettered (0: no limit)."
    )
    consumer_session_timeout_seconds: float = Field(
        10.0, gt=0, description="Kafka consumer group session timeout."
    )
    partition_stall_seconds: float = Field(
        30.0, gt=0, description="A partition whose re-read (asked for by the position guard "
        "after a hole) has made no progress for this long is put back into the fetch and sought "
        "again by the worker's watchdog, which logs the fetcher's state."
    )
    log_level: str = Field("INFO", description="Log level of the worker and CLI.")

    # --- Conversation intelligence --------------------------------------------------------------
    conversation_inactivity_seconds: float = Field(
        1800.0, gt=0, description="Silence after which an open conversation times out."
    )
    clock_skew_tolerance_seconds: float = Field(
        300.0, ge=0,
        description="How far in the future an event may be dated; a later one is dead-lettered.",
    )
    follow_up_delay_seconds: float = Field(
        86400.0, ge=0, description="Delay of the follow-up task of an unresolved conversation."
    )
    timer_interval_seconds: float = Field(
        5.0, gt=0, description="How often the worker checks timeouts and due follow-ups."
    )
    conversation_retention_seconds: float = Field(
        21_600.0, gt=0, description="A closed conversation silent this long leaves the "
        "worker's tables (its ClickHouse rows stay); must exceed the inactivity timeout."
    )

    # --- The unified customer -------------------------------------------------------------------
    customer_lookback_days: float = Field(
        30.0, gt=0, description="Attribution lookback: a conversion's journey is the person's "
        "touchpoints this many days before it."
    )
    customer_half_life_days: float = Field(
        7.0, gt=0, description="Half-life of the time-decay attribution model."
    )
    customer_hash_identifiers: bool = Field(
        False, description="Store emails and phones as salted SHA-256 (topics, tables, identity "
        "graph); needs customer_hash_salt. Equal values still merge."
    )
    customer_hash_salt: SecretStr | None = Field(
        None, description="Salt of the email and phone hashes; keep it stable (a new salt "
        "makes new identities)."
    )
    customer_recent_interactions: int = Field(
        50, ge=1, description="Interactions a profile keeps in its recent list (the full "
        "history is in ClickHouse)."
    )
    customer_attribution_interval_minutes: float = Field(
        60.0, ge=0, description="How often one worker recomputes the Markov and Shapley "
        "attribution (a new version in attribution_model_credits); 0: never, only "
        "`touchstream attribution run`."
    )
    customer_attribution_window_days: float = Field(
        30.0, gt=0, description="The scheduled attribution covers the conversions of this "
        "many days before it runs."
    )
    customer_attribution_orders: list[int] = Field(
        default_factory=lambda: [1], description="Markov chain orders (1 to 3) of the "
        "scheduled attribution, e.g. `[1,3]`."
    )
    customer_attribution_replicates: int = Field(
        100, ge=0, description="Bootstrap replicates of the scheduled Markov credits' "
        "confidence intervals (0: no intervals)."
    )
    customer_matching_interval_minutes: float = Field(
        0.0, ge=0, description="How often one worker runs the probabilistic matching of the "
        "CRM records (what `touchstream identity match` sends); 0: never in the worker, only "
        "the command or the chart's CronJob."
    )

    # --- Predictive customer intelligence -----------------------------------------------------
    predictive_model_dir: Path = Field(
        PROJECT_ROOT / "models" / "predictive", description="Where the scoring stage finds its "
        "models: `lead_model/` and `churn_model/` (versioned artefacts, `CURRENT` names the one "
        "served) and `clv.json` (fitted CLV parameters; the published CDNOW fit without it)."
    )
    predictive_require_model: bool = Field(
        False, description="Stop the worker with a clear error when no lead model can be "
        "loaded, instead of scoring with the explained rules (`rules-v1`)."
    )
    predictive_model_reload_seconds: float = Field(
        30.0, gt=0, description="How often the worker looks for a new or changed model; a "
        "broken one is logged and counted, and the last good model stays in use."
    )
    predictive_contributions: Literal["shap", "path"] = Field(
        "path", description="How a lead score's reasons are computed: `path` (per-tree path "
        "attribution, fast) or `shap` (TreeSHAP, consistent, about 6x slower)."
    )
    predictive_rescore_interval_seconds: float = Field(
        3600.0, ge=0, description="How often the scoring stage rescores persons whose scores "
        "age without a new event (days since last activity) or were made by an older model "
        "than the one served, in batches (0: only a profile change rescores)."
    )

    # --- WebSocket ingest -----------------------------------------------------------------------
    ingest_secret: SecretStr | None = Field(
        None, description="HMAC secret that signs and checks ingest tokens (required for ingest)."
    )
    ingest_host: str = Field("127.0.0.1", description="Bind address of the WebSocket gateway.")
    ingest_port: int = Field(8765, ge=1, le=65535, description="Port of the WebSocket gateway.")
    ingest_allowed_origins: list[str] = Field(
        default_factory=list,
        description="Browser origins the gateway accepts (JSON list); no Origin header passes.",
    )
    ingest_max_frame_bytes: int = Field(
        900_000, ge=1024,
        description="Largest WebSocket frame (under Kafka's 1 MB message size); larger: close 1009.",
    )
    ingest_rate_per_second: float = Field(
        500.0, gt=0, description="Events per second allowed per gateway connection."
    )
    ingest_burst: int = Field(1000, ge=1, description="Token-bucket burst per connection.")
    ingest_dead_letter_rate_per_second: float = Field(
        10.0, gt=0,
        description="Bad frames per second a gateway connection may dead-letter (beyond: answered, counted).",
    )
    ingest_dead_letter_burst: int = Field(
        100, ge=1, description="Burst of the per-connection dead-letter budget."
    )
    ingest_max_in_flight: int = Field(
        20_000, ge=1, description="Events produced but not yet acknowledged by Kafka (backpressure)."
    )
    ingest_delivery_timeout_seconds: float = Field(
        60.0, gt=0, description="How long Kafka may take to acknowledge an ingested event."
    )
    ingest_url: str | None = Field(
        None, description="Chat service event-stream URL (ingest client mode)."
    )
    ingest_token: SecretStr | None = Field(
        None, description="Token presented to the chat service (client mode)."
    )
    ingest_token_in_query: bool = Field(
        False, description="Send the token as `?token=` instead of a Bearer header."
    )
    ingest_state_path: Path | None = Field(
        None, description="Acknowledged-cursor file (client mode); default "
        "`<local_state_dir>/ingest-cursor.json`."
    )
    ingest_batch_max: int = Field(500, ge=1, description="Events per produced batch (client mode).")
    ingest_batch_ms: float = Field(
        50.0, gt=0, description="Longest wait before a partial batch is produced (client mode)."
    )
    ingest_backoff_initial_seconds: float = Field(
        0.2, gt=0, description="First reconnect back-off (client mode)."
    )
    ingest_backoff_max_seconds: float = Field(
        30.0, gt=0, description="Reconnect back-off cap (client mode)."
    )

    # --- Marketing: platform connectors and optimisation ---------------------------------------
    connectors_schedule_seconds: float = Field(
        300.0, gt=0, description="How often `touchstream connectors sync` pulls every platform."
    )
    connectors_restatement_days: int = Field(
        3, ge=1, description="Days before today every pull reads again (platforms revise them)."
    )
    connectors_initial_days: int = Field(
        7, ge=0, description="Days of history the first pull of an account reads."
    )
    connectors_state_dir: Path | None = Field(
        None, description="Where connector cursors are kept; default "
        "`<local_state_dir>/connectors`."
    )
    google_ads_base_url: str = Field(
        "https://googleads.googleapis.com", description="Google Ads API root URL."
    )
    google_ads_customer_ids: list[str] = Field(
        default_factory=list, description="Google Ads customer ids to pull, without dashes "
        "(JSON list; empty: the connector is off)."
    )
    google_ads_developer_token: SecretStr | None = Field(
        None, description="Google Ads developer token."
    )
    google_ads_access_token: SecretStr | None = Field(
        None, description="Google Ads OAuth access token."
    )
    google_ads_login_customer_id: str | None = Field(
        None, description="Manager account id sent as `login-customer-id`, when pulling "
        "through one."
    )
    meta_base_url: str = Field(
        "https://graph.facebook.com", description="Meta Graph API root URL."
    )
    meta_ad_account_ids: list[str] = Field(
        default_factory=list, description="Meta ad accounts to pull as `act_<number>` (JSON "
        "list; empty: the connector is off)."
    )
    meta_access_token: SecretStr | None = Field(None, description="Meta access token.")
    meta_poll_seconds: float = Field(
        5.0, gt=0, description="Wait between polls of a Meta asynchronous report job."
    )
    meta_throttle_pause_seconds: float = Field(
        60.0, ge=0, description="Pause after a Meta answer whose usage headers are at 90 % or "
        "more of a rate limit (longer if Meta says so)."
    )
    email_base_url: str = Field(
        "https://api.sendgrid.com", description="Email platform (SendGrid API) root URL."
    )
    email_account_ids: list[str] = Field(
        default_factory=list, description="Email platform accounts to pull (JSON list; empty: "
        "the connector is off)."
    )
    email_api_key: SecretStr | None = Field(None, description="Email platform API key.")
    email_currency: str = Field("USD", description="Currency of the email account's costs.")
    email_webhook_token: SecretStr | None = Field(
        None, description="Bearer token the email platform's Event Webhook sends "
        "(`touchstream connectors webhook` refuses to start without it)."
    )
    email_webhook_host: str = Field(
        "127.0.0.1", description="Bind address of the email Event Webhook endpoint."
    )
    email_webhook_port: int = Field(
        8090, ge=1, le=65535, description="Port of the email Event Webhook endpoint."
    )
    ga4_base_url: str = Field(
        "https://analyticsdata.googleapis.com", description="GA4 Data API root URL."
    )
    ga4_property_ids: list[str] = Field(
        default_factory=list, description="GA4 properties to pull as `properties/<number>` "
        "(JSON list; empty: the connector is off)."
    )
    ga4_access_token: SecretStr | None = Field(None, description="GA4 OAuth access token.")
    marketing_anomaly_detection: bool = Field(
        True, description="Score every campaign's hourly spend, CTR, CPC, CPA, conversions and "
        "ROAS in the ad.metrics stage and raise alerts to the anomalies topic and table (each "
        "hour's figures are kept and computed once, see benchmarks.anomaly_stream_bench; false: "
        "KPIs only, a stateless stage)."
    )

    @model_validator(mode="after")
    def _retention_outlasts_inactivity(self) -> Settings:
        if self.conversation_retention_seconds <= self.conversation_inactivity_seconds:
            raise ValueError("conversation_retention_seconds must exceed "
                             "conversation_inactivity_seconds: an open conversation is only "
                             "closed by the inactivity timeout")
        return self

    @model_validator(mode="after")
    def _behind_not_smaller(self) -> Settings:
        if self.write_interval_behind_seconds < self.write_interval_seconds:
            raise ValueError("write_interval_behind_seconds must be at least "
                             "write_interval_seconds")
        if self.step_max_events_behind < self.step_max_events:
            raise ValueError("step_max_events_behind must be at least step_max_events")
        return self

    @field_validator("clickhouse_url")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip()

    @property
    def effective_clickhouse_url(self) -> str:
        if self.clickhouse_url:
            return self.clickhouse_url
        return f"chdb://{(self.local_state_dir / 'clickhouse').resolve()}"

    @property
    def effective_connectors_state_dir(self) -> Path:
        return self.connectors_state_dir or self.local_state_dir / "connectors"

    @property
    def embedded_clickhouse(self) -> bool:
        return self.effective_clickhouse_url.startswith("chdb:")

    def topic(self, logical: str) -> str:
        """Physical name of a logical topic (``chat.events`` -> ``<prefix>chat.events``)."""
        return f"{self.topic_prefix}{logical}"

    def kafka_client_config(self) -> dict[str, Any]:
        """librdkafka (confluent-kafka) connection settings."""
        conf: dict[str, Any] = {
            "bootstrap.servers": self.kafka_bootstrap_servers,
            "security.protocol": self.kafka_security_protocol,
        }
        if self.kafka_sasl_mechanism:
            conf["sasl.mechanism"] = self.kafka_sasl_mechanism
        if self.kafka_sasl_username:
            conf["sasl.username"] = self.kafka_sasl_username
        if self.kafka_sasl_password:
            conf["sasl.password"] = self.kafka_sasl_password.get_secret_value()
        if self.kafka_ssl_cafile:
            conf["ssl.ca.location"] = str(self.kafka_ssl_cafile)
        if self.kafka_ssl_certfile:
            conf["ssl.certificate.location"] = str(self.kafka_ssl_certfile)
        if self.kafka_ssl_keyfile:
            conf["ssl.key.location"] = str(self.kafka_ssl_keyfile)
        return conf

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = os.environ.get(CONFIG_ENV)
        if config_file:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(config_file)))
        return tuple(sources)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()


def settings_table() -> list[tuple[str, str, str]]:
    """(environment variable, default, description) for every setting: the README table."""
    rows = []
    for name, field in Settings.model_fields.items():
        default = field.default if field.default_factory is None else field.default_factory()  # type: ignore[call-arg]
        if isinstance(default, Path):
            default = str(default.relative_to(PROJECT_ROOT)) if default.is_relative_to(
                PROJECT_ROOT
            ) else str(default)
        rows.append(
            (ENV_PREFIX + name.upper(), "" if default in (None, []) else str(default),
             field.description or "")
        )
    return rows
