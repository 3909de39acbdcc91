"""Query and mutation logic, and the dataloaders. Schema types call into here, never into peewee."""
