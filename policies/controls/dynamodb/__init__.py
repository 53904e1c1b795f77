"""Controls for dynamodb: one control per module."""
