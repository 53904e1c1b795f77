"""The order context: controller (HTTP), service (use cases), repository (plain SQL)."""
