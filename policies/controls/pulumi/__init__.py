"""Controls for pulumi: one control per module."""
