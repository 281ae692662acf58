"""EAS orchestration: the Dagster code location, request store, intake gateway, agents and lanes."""
