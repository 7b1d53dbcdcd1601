"""Fleets for the sandbox: a realistic population (`population.py`, `sandbox seed`) and the messy
cases an export must survive (`messy.py`)."""

from reconcile.sandbox.seed.population import (
    MESSY_PER,
    plan_population,
    seed_command,
    seed_population,
)

__all__ = ["MESSY_PER", "plan_population", "seed_command", "seed_population"]
