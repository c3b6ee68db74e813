"""Training the text models from the labelled sets in ``schemas/models/``: data, intent and
language. Tools, not the worker: inference lives in ``streams.text``."""
