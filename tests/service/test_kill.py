"""Kill -9 of the server in the middle of a flow, restart, retry with the same keys (``harness.http_crash``).

The bounded slice of ``make crash``'s HTTP run: one seeded flow, a few kills landing inside requests.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from equitoken.harness.http_crash import make_flow, run


def test_the_flow_is_deterministic_per_seed() -> None:
    assert make_flow(3, 20) == make_flow(3, 20)
    assert make_flow(3, 20) != make_flow(4, 20)
    kinds = {step.kind for step in make_flow(3, 60)}
    assert kinds == {"onboard", "deposit", "order", "cancel"}


def test_killed_mid_flow_and_retried_nothing_is_lost_or_doubled(tmp_path: Path) -> None:
    report = run(seed=7, steps=24, kills=4, directory=tmp_path)
    assert report.kills == 4 and report.restarts >= 4
    assert not report.mismatches, "\n".join(report.mismatches)
    answered = sum(report.answers.values())
    assert answered == len(make_flow(7, 24))  # every step got an answer in the end
    # The report `make crash` writes (a Counter through ``asdict`` once came out keyed by tuples).
    written = json.loads(json.dumps(report.as_dict()))
    assert written["answers"] == dict(report.answers) and written["kills"] == 4


def test_make_crash_runs_the_harness_as_a_script_and_writes_its_report(tmp_path: Path) -> None:
    # Run as `make crash` runs it (python -m): a helper defined below the `__main__` guard once made
    # the script fail with NameError while the imported module, as the test above uses it, worked.
    report = tmp_path / "crash-http.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "equitoken.harness.http_crash",
            "--seeds",
            "1",
            "--steps",
            "6",
            "--kills",
            "1",
            "--report",
            str(report),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    (written,) = json.loads(report.read_text())
    assert written["kills"] == 1 and not written["mismatches"]
