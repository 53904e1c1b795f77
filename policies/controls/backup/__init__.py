"""Controls for backup: one control per module."""
