"""Benchmarks: ``make bench`` and ``equitoken bench PART``. Each capability registers its part here."""

from __future__ import annotations

from collections.abc import Callable

from equitoken.bench.core import BenchOptions, Measurement

Part = Callable[[BenchOptions], list[Measurement]]


def parts() -> dict[str, Part]:
    """Return the benchmark parts by name, importing each only when asked for."""
    from equitoken.bench import (
        chain,
        chain_embedded,
        chain_rpc,
        history,
        http,
        issuance,
        lab,
        ledger,
        page,
        reserves,
    )

    # ``chain`` measures the port; the two engine parts measure what sits under it (the bare EVM,
    # one call per block vs batched, pre-signed arrays vs one request at a time).
    return {
        "ledger": ledger.run,
        "chain": chain.run,
        "engine-embedded": chain_embedded.run,
        "engine-rpc": chain_rpc.run,
        "issuance": issuance.run,
        "history": history.run,
        "http": http.run,
        "reserves": reserves.run,
        "page": page.run,
        "lab": lab.run,
    }
