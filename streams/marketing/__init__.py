"""Marketing performance: platform connectors, KPIs and ROI, anomaly detection and optimisation."""
