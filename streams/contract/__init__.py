"""The wire contract: topic manifests and Avro schemas (schemas/), and the Confluent-framed codec."""
