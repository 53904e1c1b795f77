"""Helpers the controls share: property readers, framework references, thresholds."""
