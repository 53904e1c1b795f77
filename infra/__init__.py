"""Pulumi program for the investment-orders platform (primary region + warm standby).

`infra/__main__.py` is the Pulumi entry point (`main: infra/` in Pulumi.yaml);
`python -m infra.plan` runs the same program under recording mocks, offline.
"""
