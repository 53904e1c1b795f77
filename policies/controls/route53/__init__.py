"""Controls for route53: one control per module."""
