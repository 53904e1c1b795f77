"""Controls for efs: one control per module."""
