"""Controls for eks: one control per module."""
