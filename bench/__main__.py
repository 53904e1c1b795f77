"""`make bench`: the timing targets, kept out of the test suite.

- bench.api_latency: order placement P50/P95/P99 against the SLO (P99 < 500 ms).
- bench.sqs_endpoint: the local SQS endpoint's end-to-end msg/s under the drill pattern.
"""

from __future__ import annotations

import sys

from bench import api_latency, sqs_endpoint


def main() -> int:
    print("== API latency (SLO: P99 < 500 ms) ==", flush=True)
    api = api_latency.main([])
    print("== local SQS endpoint throughput (need >= 200 msg/s) ==", flush=True)
    sqs = sqs_endpoint.main([])
    return api or sqs


if __name__ == "__main__":
    sys.exit(main())
