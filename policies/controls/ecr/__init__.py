"""Controls for ecr: one control per module."""
