"""Connectors to enterprise systems: interface, sandbox implementation and Dagster resource each."""
