"""Operator commands behind the CLI: the demo, producing, importing and replaying."""
