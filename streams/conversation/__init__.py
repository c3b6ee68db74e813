"""Conversation intelligence: lifecycle state, emotional journey, escalation and routing,
follow-ups and lead signals, as pure synchronous functions over chat events.

``state.fold`` absorbs one chat event into a conversation's record and returns the effects
it causes (escalate, schedule or cancel a follow-up, signal a lead); ``records`` turns the
effects into output-topic records and ClickHouse columns. Agents own topics, tables and timers.
"""
