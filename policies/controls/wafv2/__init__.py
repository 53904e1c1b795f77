"""Controls for wafv2: one control per module."""
