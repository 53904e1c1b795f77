"""`make bench`: the timing targets, kept out of the test suite.

- bench.api_latency: order placement P50/P95/P99 against the SLO (P99 < 500 ms).
- bench.sqs_endpoint: the local SQS endpoint's end-to-end msg/s under the drill pattern.
- bench.audit: placements/s with and without a shared audit row, integration lag p99,
  verifying 1,000,000 audit events (< 60 s), inclusion-proof latency p99 (< 10 ms).
"""

from __future__ import annotations

import sys

from bench import api_latency, audit, sqs_endpoint


def main() -> int:
    print("== API latency (SLO: P99 < 500 ms) ==", flush=True)
    api = api_latency.main([])
    print("== local SQS endpoint throughput (need >= 200 msg/s) ==", flush=True)
    sqs = sqs_endpoint.main([])
    print("== audit log (lag p99 < 1 s, verify 1M < 60 s, proof p99 < 10 ms) ==", flush=True)
    audit_log = audit.main([])
    return api or sqs or audit_log


if __name__ == "__main__":
    sys.exit(main())
