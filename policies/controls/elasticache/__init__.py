"""Controls for elasticache: one control per module."""
