"""Controls for ec2: one control per module."""
