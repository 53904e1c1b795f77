"""Controls for s3: one control per module."""
