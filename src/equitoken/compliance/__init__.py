"""Compliance: investors, jurisdictions and product policies as data; one evaluation point with reasons."""
