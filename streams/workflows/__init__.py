"""Workflows: declarative cross-channel triggers and actions, fired once and audited."""
