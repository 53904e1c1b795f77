"""Controls for elb: one control per module."""
