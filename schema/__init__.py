"""Strawberry types, thin: they call loaders and resolver functions, never peewee."""
