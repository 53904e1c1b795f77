"""Failover drills: load generator, scenario runner, Jepsen-style checker and reports.

- `chaos.drill.loadgen`: concurrent API clients that log every attempt and acknowledgement.
- `chaos.drill.stats`: per-second series and the SLO / recovery arithmetic.
- `chaos.drill.checker`: lost / duplicated / orphaned / undelivered / double-processed orders.
- `chaos.drill.scenarios` + `chaos.drill.runner`: hypothesis, method, rollback, drain, check.
- `chaos.drill.report`: JSON + Markdown + PNG timeline per run, a summary across runs.
- `chaos.drill.cli`: `python -m chaos drill`.
"""
