"""Investment-orders service: idempotent order intake on PostgreSQL with an outbox to SQS FIFO."""
