"""Controls for iam: one control per module."""
