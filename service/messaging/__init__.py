"""The outbox relay (PostgreSQL → SQS FIFO) and the downstream worker (SQS → venue)."""
