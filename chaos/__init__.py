"""Failover drills: a real local HA stack, fault injection, load, and a loss/duplication checker."""
