"""Restore drills: backups proven by restoring them and checking what came back.

`checks` (the checks of a restored database, target-independent), `report` (schema and
verdict), `render` (Markdown), `plot` (PNG); `pgbackrest` and `local` run the drill on the
local HA stack.
"""
