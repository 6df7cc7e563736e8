"""The audit log: one append-only, hash-chained event per write, in each tenant's schema."""
