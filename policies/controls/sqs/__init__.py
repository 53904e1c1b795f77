"""Controls for sqs: one control per module."""
