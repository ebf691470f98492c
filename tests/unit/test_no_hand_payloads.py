"""No journal writer builds its own payload: every event goes through ``issuance.journal.append``.

The streams migrated to typed, versioned events (corporate actions, voting, onboarding, the mint
outbox, the plan outbox, the reserves stream's halts and reconciliations) are written only by
``journal.append``, which encodes with the one codec and stamps the version. This walks the source
for direct ``append_event(`` calls outside the store adapters and the journal itself and fails naming
file:line for each one not listed below, so a hand payload writer is never added back unseen.
"""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "equitoken"

ALLOWED_HOMES = ("adapters/store/", "issuance/journal.py")
"""Where ``append_event`` is defined or is the one mechanism itself."""

EXCEPTIONS: dict[str, tuple[int, str]] = {
    # file: (how many calls, why they still write their own payload)
    "app/brokerage.py": (4, "broker orders stream: being edited elsewhere, its migration is its own change"),
    "app/orders.py": (
        2,
        "orders stream: OrderReceived carries the request and its inputs through its own codec, and the "
        "replay compares stored payloads to derived ones; its migration is its own change",
    ),
    "app/investors.py": (2, "investors stream: compliance.events to_payload/from_payload, not yet migrated"),
    "app/instruments.py": (
        1,
        "instruments stream: compliance.instruments to_payload/from_payload, not yet migrated",
    ),
    "cli/chain.py": (1, "deployments stream: a deployment result read back by key, not a fold"),
}


def _calls(root: Path = SRC) -> list[tuple[str, int]]:
    """Return (file under ``root``, line) of every ``….append_event(…)`` call outside the allowed homes."""
    found: list[tuple[str, int]] = []
    for path in sorted(root.rglob("*.py")):
        name = path.relative_to(root).as_posix()
        if name.startswith(ALLOWED_HOMES):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "append_event"
            ):
                found.append((name, node.lineno))
    return found


def test_every_journal_write_goes_through_the_one_mechanism() -> None:
    calls = _calls()
    unlisted = [f"src/equitoken/{name}:{line}" for name, line in calls if name not in EXCEPTIONS]
    assert not unlisted, (
        "these write hand-built event payloads; append a typed event with issuance.journal.append "
        f"instead: {', '.join(unlisted)}"
    )
    counts = Counter(name for name, _ in calls)
    grown = {
        name: f"{counts[name]} calls, {allowed} listed"
        for name, (allowed, _) in EXCEPTIONS.items()
        if counts[name] > allowed
    }
    assert not grown, f"a listed exception gained a hand payload writer: {grown}"


def test_the_exceptions_list_shrinks_with_the_code() -> None:
    counts = Counter(name for name, _ in _calls())
    stale = {name for name, (allowed, _) in EXCEPTIONS.items() if counts[name] < allowed}
    assert not stale, f"migrated (or moved): lower or drop their entries in EXCEPTIONS: {sorted(stale)}"


def test_the_walk_finds_a_hand_payload_writer_and_spares_the_journal(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "issuance").mkdir()
    (tmp_path / "app" / "new.py").write_text('x = 1\nstore.append_event("s", "Kind", "k", at, {"x": 1})\n')
    (tmp_path / "issuance" / "journal.py").write_text("store.append_event(stream, kind, key, at, payload)\n")
    assert _calls(tmp_path) == [("app/new.py", 2)]
