"""A bounded slice of ``make crash``: kill the engine with SIGKILL mid-flow, restart it, compare the end.

Each trial plays a small seeded flow (``simulation.crash``) once uninterrupted and once killed at
random points — a wall-clock delay, right after the Nth chain send, inside or right after the Nth store
commit — and restarted over what survives, until it completes (``harness.crash``). The end states must
agree: every order, its fills, balances on chain and in the ledger, cash, fees, custody.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from equitoken.harness.crash import Mode, Trial, run_trial
from tests.conftest import POSTGRES_URL, service_missing

SIZE = (8, 12)
"""Eight random orders (plus the ATS sells) and a tick every twelve hours: about 70 steps a flow."""


def _report(trials: list[Trial]) -> str:
    lines = []
    for trial in trials:
        lines.append(
            f"seed {trial.seed} ({trial.mode}): {trial.orders} orders, {trial.kills} kills, "
            f"{len(trial.mismatches)} mismatches; kill points: {'; '.join(trial.plans)}"
        )
        if trial.first_break:
            lines.append(f"  first break {trial.first_break}")
        lines.extend(f"  {m}" for m in trial.mismatches[:8])
    return "\n".join(lines)


def _check(trials: list[Trial], kills_at_least: int) -> None:
    for trial in trials:
        assert not trial.reference_problems, (
            f"the uninterrupted run is inconsistent: {trial.reference_problems}"
        )
    assert sum(t.kills for t in trials) >= kills_at_least, _report(trials)
    assert not any(t.mismatches for t in trials), _report(trials)


@pytest.mark.slow
def test_sqlite_and_the_durable_embedded_chain_survive_kills(tmp_path: Path) -> None:
    # A kill point drawn past the end of what a run still had to do kills no one (a wall-clock delay on
    # a machine faster than the reference's run), so seeds are played until ten kills have landed.
    trials = _until_killed(lambda seed: run_trial(seed, SIZE, 6, Mode("sqlite"), tmp_path, timeout=120), 10)
    _check(trials, kills_at_least=10)


@pytest.mark.slow
@pytest.mark.postgres
def test_postgresql_and_anvil_survive_kills(tmp_path: Path) -> None:
    _services_or_skip()
    trials = _until_killed(
        lambda seed: run_trial(seed, SIZE, 4, Mode("postgres", POSTGRES_URL), tmp_path, timeout=180), 3
    )
    _check(trials, kills_at_least=3)


def _until_killed(play: Callable[[str], Trial], kills: int, most: int = 4) -> list[Trial]:
    """Play seeds ``slice-1``, ``slice-2``… until ``kills`` kills have landed (at most ``most`` seeds)."""
    trials: list[Trial] = []
    for number in range(1, most + 1):
        trials.append(play(f"slice-{number}"))
        if sum(t.kills for t in trials) >= kills:
            break
    return trials


def _services_or_skip() -> None:
    """Skip (fail under CI=true) unless PostgreSQL answers and anvil is installed."""
    from sqlalchemy import create_engine
    from sqlalchemy.exc import DBAPIError

    from equitoken.adapters.chain.anvil import find_anvil
    from equitoken.domain.errors import DomainError

    try:
        find_anvil()
    except DomainError as missing:
        service_missing("anvil", missing.message)
    engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
    try:
        with engine.connect():
            pass
    except DBAPIError as error:
        service_missing("PostgreSQL", str(error.orig or error).strip().splitlines()[0])
    finally:
        engine.dispose()
