"""Quality evaluation of the models and policies against held-out and simulated data."""
