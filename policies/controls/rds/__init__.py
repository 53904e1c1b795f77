"""Controls for rds: one control per module."""
