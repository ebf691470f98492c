"""Tests of the Vyper contracts, run directly on pyrevm through a small harness."""
