"""Controls for cloudwatch: one control per module."""
