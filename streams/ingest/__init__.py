"""WebSocket ingest of the AI customer-service chat into ``chat.events``.

Two modes share one validation step and one Kafka sink:

- gateway (``server``): chat widgets, agent desks and the chat service connect and push
  events; each event is acknowledged once Kafka has it.
- client (``client``): touchstream subscribes to the chat service's event stream, produces
  what it receives, and acknowledges a cursor back once Kafka has everything up to it.

The wire format is described in ``schemas/websocket/README.md``.
"""
