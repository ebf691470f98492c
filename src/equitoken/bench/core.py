"""The benchmark harness: every figure is measured beside a baseline in the same run, never asserted.

A part is a function ``(BenchOptions) -> list[Measurement]``; parts register in ``equitoken.bench.PARTS``.
Each measurement names its baseline (something simpler doing the same work, timed in the same process)
and the ratio ours/baseline, so a figure means something on any machine.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class BenchOptions:
    """How hard to push: ``quick`` runs each case briefly (CI smoke), else long enough to be stable."""

    quick: bool = False
    postgres_url: str | None = None

    def size(self, full: int, quick: int) -> int:
        """Return the workload size for this run."""
        return quick if self.quick else full


@dataclass(frozen=True, slots=True)
class Measurement:
    """One figure: a rate (higher is better) or a duration, beside its baseline."""

    part: str
    name: str
    value: float | None
    unit: str
    baseline_name: str | None = None
    baseline_value: float | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        """Return value/baseline, or ``None`` when there is no baseline figure."""
        if self.value is None or not self.baseline_value:
            return None
        return self.value / self.baseline_value

    def as_dict(self) -> dict[str, Any]:
        """Return the measurement as a JSON-ready mapping, ratio included."""
        return asdict(self) | {"ratio": None if self.ratio is None else round(self.ratio, 4)}


@dataclass(frozen=True, slots=True)
class Timing:
    """How many operations ran in how many seconds."""

    operations: int
    seconds: float

    @property
    def rate(self) -> float:
        """Return operations per second."""
        return self.operations / self.seconds if self.seconds > 0 else float("inf")


def timed(operations: int, work: Callable[[], object]) -> Timing:
    """Run ``work`` once and return how long the ``operations`` it performs took."""
    start = time.perf_counter()
    work()
    return Timing(operations, time.perf_counter() - start)


@dataclass(frozen=True, slots=True)
class Machine:
    """Where the figures came from."""

    python: str = field(default_factory=platform.python_version)
    system: str = field(default_factory=lambda: f"{platform.system()} {platform.release()}")
    processor: str = field(default_factory=lambda: platform.machine())
    cores: int = field(default_factory=lambda: os.cpu_count() or 0)
    measured_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))


def cpu_model() -> str:
    """Return the CPU model name where the OS tells it (Linux), else the architecture."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()
