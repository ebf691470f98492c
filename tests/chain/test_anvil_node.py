"""``AnvilNode``: starts on a free loopback port, answers, stops by pid, leaves nothing behind."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import pytest

from equitoken.adapters.chain.anvil import ANVIL_ENV, AnvilNode, find_anvil
from equitoken.domain.errors import DomainError
from tests.chain.anvil_support import anvil_binary


def chain_id_of(url: str) -> int:
    """Ask ``url`` for its chain id."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=2) as reply:
        return int(json.loads(reply.read())["result"], 16)


def alive(pid: int) -> bool:
    """Return whether a process with ``pid`` exists (and is not a zombie)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def port_is_free(port: int) -> bool:
    """Return whether nothing listens on ``port`` (a server — which sets SO_REUSEADDR — could bind it)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def test_a_missing_binary_is_node_unavailable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(ANVIL_ENV, str(tmp_path / "no-such-anvil"))
    with pytest.raises(DomainError) as missing:
        find_anvil()
    assert missing.value.code == "NODE_UNAVAILABLE"
    with pytest.raises(DomainError) as refused:
        AnvilNode().start()
    assert refused.value.code == "NODE_UNAVAILABLE"


def test_the_binary_is_the_pinned_version() -> None:
    version = subprocess.run([anvil_binary(), "--version"], capture_output=True, text=True, check=True)
    assert "Version: 1.7.1" in version.stdout


def test_start_answers_on_loopback_and_stop_leaves_nothing(tmp_path: Path) -> None:
    node = AnvilNode(binary=anvil_binary(), chain_id=4242)
    with node:
        pid, port, home = node.pid, node.port, node.home
        assert node.url == f"http://127.0.0.1:{port}"
        assert chain_id_of(node.url) == 4242
        assert alive(pid)
        assert home is not None and home.is_dir()
    assert not node.running
    assert not alive(pid)
    assert port_is_free(port)  # the port can be reused at once
    assert not home.exists()
    node.stop()  # stopping twice is harmless


def test_context_manager_stops_the_node_on_error() -> None:
    node = AnvilNode(binary=anvil_binary())
    with pytest.raises(RuntimeError), node:
        pid = node.pid
        raise RuntimeError("boom")
    assert not alive(pid)


def test_nodes_run_side_by_side_and_a_port_is_reused(tmp_path: Path) -> None:
    with AnvilNode(binary=anvil_binary()) as one, AnvilNode(binary=anvil_binary()) as two:
        assert one.port != two.port
        assert chain_id_of(one.url) == chain_id_of(two.url)
        freed = one.port
        one.stop()
        assert port_is_free(freed)
        assert chain_id_of(two.url) == two.chain_id
    # A new node can take the freed port at once (no lingering process holds it).
    with AnvilNode(binary=anvil_binary(), port=freed) as three:
        assert three.port == freed
        assert chain_id_of(three.url) == three.chain_id


def test_nothing_is_written_into_the_users_foundry_directory(tmp_path: Path) -> None:
    from equitoken.adapters.chain.backend import RawCall
    from equitoken.adapters.chain.keys import DeterministicKeyRing
    from equitoken.adapters.chain.rpc import RpcBackend

    real = Path.home() / ".foundry"
    before = sorted(p.relative_to(real) for p in real.rglob("*")) if real.exists() else None
    ring = DeterministicKeyRing("anvil-node-test", ["a"])
    sender = ring.label_address("a")
    with RpcBackend.start_anvil(ring, binary=anvil_binary(), history=8) as backend:
        backend.fund(sender, 10**21)
        for _ in range(20):  # more blocks than the history keeps, so old states are pruned
            backend.send([RawCall(sender, bytes(20), b"", gas=21_000) for _ in range(5)])
        node = backend.node
        assert node is not None and node.home is not None
        written = [p for p in node.home.rglob("*") if p.name != "anvil.log"]
        assert written == [], f"anvil wrote {written}"
    after = sorted(p.relative_to(real) for p in real.rglob("*")) if real.exists() else None
    assert after == before


def test_a_node_dies_with_the_process_that_forgot_it(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import os
        from equitoken.adapters.chain.anvil import AnvilNode
        node = AnvilNode(binary={str(anvil_binary())!r}).start()
        print(node.pid, flush=True)
        os._exit(0)  # no atexit hook, no stop(): only the parent-death signal can stop the node
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=30, check=True
    )
    pid = int(done.stdout.split()[0])
    deadline = time.monotonic() + 5
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if alive(pid):  # do not leave it behind even if the assertion fails
        os.kill(pid, 9)
    assert not alive(pid)
