"""Benchmarks run by `make bench`; each bounded in count and time, loopback only."""
