"""Adapters to the outside: ClickHouse, the sink, the Kafka publisher and admin, migrations, the
local broker, queries.
"""
