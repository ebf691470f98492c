"""Simulation scripts: scenarios as pure data, run by the production engine on a simulated clock."""
