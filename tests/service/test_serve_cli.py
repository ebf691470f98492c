"""``equitoken serve`` refuses bad input with one line and exit 2, before it opens anything."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest

from equitoken.harness.server import SCRIPT


def serve(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``equitoken serve`` with ``args`` over an empty data directory; return what it did."""
    environ = {"PATH": "/usr/bin:/bin", "EQUITOKEN_DATA_DIR": str(tmp_path / "data")} | (env or {})
    return subprocess.run(
        [str(SCRIPT), "serve", *args], capture_output=True, text=True, env=environ, timeout=120, check=False
    )


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("--from", "2012-11-19"), "USAGE"),
        (("--speed", "5"), "USAGE"),
        (("--sandbox", "--from", "19/11/2012"), "USAGE"),
        (("--sandbox", "--speed", "0"), "INVALID_SETTING"),
        (("--sandbox", "--tick", "0"), "USAGE"),
        (("--host", "no-such-host.invalid"), "USAGE"),
        (("--sandbox", "--advertise", "ftp://host:1"), "INVALID_SETTING"),
        ((), "DEV_KEY_ON_REAL_CHAIN"),  # live, on the public development seed
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, args: tuple[str, ...], code: str) -> None:
    done = serve(tmp_path, *args)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"equitoken: error {code}: "), done.stderr
    assert not (tmp_path / "data").exists() or not any((tmp_path / "data").rglob("*.db"))


def test_a_port_in_use_is_refused_before_anything_opens(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = serve(tmp_path, "--sandbox", "--port", str(port))
    assert done.returncode == 2 and done.stderr.startswith("equitoken: error ADDRESS_IN_USE: "), done.stderr
    assert not (tmp_path / "data").exists()
