"""Text models for inference: sentiment, emotions, intent, language. Training lives in
``streams.text.training``.
"""
