"""The audit log: events appended in each state change's transaction, integrated into an
RFC 9162 Merkle tree by one elected integrator, anchored by signed checkpoints kept
outside the database. See service/AUDIT.md for the design and the threat model."""
