"""Controls for kubernetes: one control per module."""
