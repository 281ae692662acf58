"""Monitoring agent: health checks of EAS and its connectors, outage reports, alerts by severity."""
