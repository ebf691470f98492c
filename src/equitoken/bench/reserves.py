"""Bench part ``reserves``: building the holder-balance Merkle tree, ours beside OpenZeppelin's JS library.

For each size (100k and 1M holders; 1k and 10k with ``--quick``) one holders CSV is written, and both
sides build ``StandardMerkleTree``-layout trees from the same text rows in the same run:

- **ours**: ``HolderTree`` from the rows (hex and decimal parsing inside the clock, as the JS side's
  ABI encoding of strings is inside its clock);
- **baseline**: ``@openzeppelin/merkle-tree`` 1.0.8 on node (``scripts/merkle-bench.mjs``), installed into
  ``.tools/merkle-js`` by ``scripts/install-merkle-js.sh`` when missing.

Each figure is seconds (lower is better), so the ratio ours/baseline below 1 means we are faster. The note
says whether both roots agree: a time is only worth comparing if the trees are the same.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from equitoken.bench.core import BenchOptions, Measurement
from equitoken.reserves.merkle import HolderTree

PART = "reserves"
JS_VERSION = "1.0.8"
_BASELINE = f"@openzeppelin/merkle-tree {JS_VERSION} (node), same rows"
_SEED = 20_261_123
_CHECKOUT = Path(__file__).resolve().parents[3]  # src/equitoken/bench/reserves.py -> the checkout
_JS_TIMEOUT_S = 3600  # the JS library needs minutes for a million leaves on a small machine
_NODE_HEAP_MB = 8192


def sample_rows(count: int, seed: int = _SEED) -> list[tuple[str, str]]:
    """Return ``count`` distinct holders as CSV text: lower-case hex address, balance up to 1e24 units."""
    rng = random.Random(seed)  # fixed seed: the same leaves on every run and machine
    rows: dict[str, str] = {}
    while len(rows) < count:
        rows.setdefault("0x" + rng.randbytes(20).hex(), str(rng.randrange(10**24)))
    return list(rows.items())


def run(options: BenchOptions) -> list[Measurement]:
    """Time tree builds at two sizes, ours and OpenZeppelin's, and check that the roots agree."""
    sizes = (options.size(full=100_000, quick=1_000), options.size(full=1_000_000, quick=10_000))
    node, unavailable = _javascript_ready()
    rows: list[Measurement] = []
    with tempfile.TemporaryDirectory(prefix="equitoken-bench-") as scratch:
        for size in sizes:
            holders = sample_rows(size)
            path = Path(scratch) / f"holders-{size}.csv"
            path.write_text("holder,balance\n" + "".join(f"{h},{b}\n" for h, b in holders), encoding="ascii")
            ours_seconds, ours_root = _ours(holders)
            del holders  # a million rows: free them before node needs its own memory
            name = f"tree of {size:,} holders (build + root)"
            if node is None:
                rows.append(Measurement(PART, name, ours_seconds, "s", note=f"no baseline: {unavailable}"))
                continue
            try:
                js_seconds, js_root = _theirs(node, path)
            except _Unavailable as missing:
                rows.append(Measurement(PART, name, ours_seconds, "s", note=f"no baseline: {missing}"))
                continue
            agree = "same root" if js_root == ours_root else f"ROOTS DIFFER: ours {ours_root}, JS {js_root}"
            rows.append(
                Measurement(
                    PART,
                    name,
                    ours_seconds,
                    "s",
                    _BASELINE,
                    js_seconds,
                    note=f"{agree}; {js_seconds / ours_seconds:,.1f}x faster than the JS library",
                )
            )
    return rows


def _ours(holders: list[tuple[str, str]]) -> tuple[float, str]:
    start = time.perf_counter()
    tree = HolderTree([(bytes.fromhex(holder[2:]), int(balance)) for holder, balance in holders])
    seconds = time.perf_counter() - start
    return seconds, "0x" + tree.root.hex()


class _Unavailable(Exception):
    """The JavaScript baseline could not run: the figure is reported without it, with why."""


def _javascript_ready() -> tuple[str | None, str]:
    """Return the node binary once the pinned library is installed, or ``None`` and why not."""
    node = shutil.which("node")
    if node is None:
        return None, "node is not installed"
    installer = _CHECKOUT / "scripts" / "install-merkle-js.sh"
    if not installer.is_file():
        return None, "scripts/install-merkle-js.sh not found (run from a source checkout)"
    done = subprocess.run(
        [str(installer)],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return None, f"could not install @openzeppelin/merkle-tree@{JS_VERSION}: {reason}"
    return node, ""


def _theirs(node: str, path: Path) -> tuple[float, str]:
    script = _CHECKOUT / "scripts" / "merkle-bench.mjs"
    try:
        done = subprocess.run(
            [node, f"--max-old-space-size={_NODE_HEAP_MB}", str(script), str(path)],
            capture_output=True,
            text=True,
            timeout=_JS_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise _Unavailable(f"the JS library took over {_JS_TIMEOUT_S} s") from None
    if done.returncode != 0:
        raise _Unavailable((done.stderr.strip().splitlines() or ["node failed"])[-1])
    answer = json.loads(done.stdout)
    return float(answer["seconds"]), str(answer["root"])


def _env() -> dict[str, str]:
    # The pin lives here too, so the bench and the install script cannot drift apart silently.
    return {**os.environ, "MERKLE_JS_VERSION": JS_VERSION}
