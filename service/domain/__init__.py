"""Order domain logic: plain functions over an asyncpg connection."""
