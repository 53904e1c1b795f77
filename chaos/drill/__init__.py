"""Local failover drills: methods, runner, load generator, checker and reports.

- `chaos.drill.methods`: the `Target` protocol and the local faults and rollbacks.
- `chaos.drill.runner`: one scenario in named phases (pre-check .. check).
- `chaos.drill.loadgen` / `records` / `stats`: the client history and its arithmetic.
- `chaos.drill.snapshot` / `checker` / `verify`: read-only snapshot, pure anomalies, I/O.
- `chaos.drill.report` / `verdict` / `render` / `plot` / `files`: one report schema, the
  verdict, Markdown, the PNG timeline, the files.
- `chaos.drill.cli`: `python -m chaos drill`. The scenarios are in `chaos.catalogue`.
"""
