"""Benchmarks: ``make bench`` and ``equitoken bench PART``. Each capability registers its part here."""

from __future__ import annotations

from collections.abc import Callable

from equitoken.bench.core import BenchOptions, Measurement

Part = Callable[[BenchOptions], list[Measurement]]


def parts() -> dict[str, Part]:
    """Return the benchmark parts by name, importing each only when asked for."""
    from equitoken.bench import chain, ledger

    return {"ledger": ledger.run, "chain": chain.run}
