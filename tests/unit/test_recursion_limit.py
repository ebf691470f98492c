"""The process keeps Python's recursion limit whatever equitoken imports (``equitoken.signing``).

``py_ecc`` (under ``eth_account``) raises it to 100,000 on import; with it a request body of JSON nested
100,000 deep killed ``equitoken serve`` with SIGSEGV instead of being refused 400 (tests/service/
test_nasty_input.py drives that through HTTP).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[2] / "src" / "equitoken"


def test_importing_the_whole_service_leaves_the_recursion_limit_alone() -> None:
    probe = (
        "import sys; before = sys.getrecursionlimit(); "
        "import equitoken.api.app, equitoken.cli.main, equitoken.adapters.chain.facade; "
        "print(before, sys.getrecursionlimit())"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    before, after = done.stdout.split()
    assert before == after == "1000"


def test_eth_account_is_imported_in_one_place_only() -> None:
    importing = re.compile(r"^\s*(from eth_account\b|import eth_account\b)", re.MULTILINE)
    found = sorted(
        str(path.relative_to(SOURCE)) for path in SOURCE.rglob("*.py") if importing.search(path.read_text())
    )
    assert found == ["signing.py"]
