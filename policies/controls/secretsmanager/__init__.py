"""Controls for secretsmanager: one control per module."""
