"""Controls for sns: one control per module."""
