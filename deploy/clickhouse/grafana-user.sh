#!/bin/bash
# Runs once, when the ClickHouse container initialises its data directory: a read-only user
# for Grafana's ClickHouse datasource (SELECT on the touchstream database only).
set -euo pipefail
clickhouse client --user "$CLICKHOUSE_USER" --password "$CLICKHOUSE_PASSWORD" --multiquery <<SQL
CREATE USER IF NOT EXISTS grafana IDENTIFIED WITH sha256_password BY '${GRAFANA_CLICKHOUSE_PASSWORD}'
  SETTINGS readonly = 1;
GRANT SELECT ON ${CLICKHOUSE_DB}.* TO grafana;
SQL
