"""The unified customer: identity resolution, the 360° profile and multi-touch attribution."""
