"""Predictive customer intelligence: lead scores, lifetime value, churn risk, next best action."""
