"""Reserves: reconciliation of chain, ledger and custody, and verifiable attestations."""
