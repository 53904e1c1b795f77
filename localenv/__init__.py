"""Real local servers (PostgreSQL, Redis, SQS endpoint) for tests, `make run` and drills."""
