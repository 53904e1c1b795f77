"""Controls for kms: one control per module."""
