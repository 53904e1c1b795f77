"""SLOs, alert rules and dashboards as code (see observability/README.md)."""
