"""Executing operations: graphql-core's executor, with plain-data objects completed by compiled plans."""
