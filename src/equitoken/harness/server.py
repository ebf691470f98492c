"""Run the real ``equitoken serve`` in a process of its own on a free loopback port, and talk to it.

``Server`` runs the console script as an operator would (a data directory of its own, a sandbox on
the bundled history unless told otherwise), waits for ``/health``, and reads the keys the first start
writes. ``kill()`` ends it with SIGKILL (no shutdown of any kind), ``start()`` opens it again over the
same data directory — what survives is what a crash leaves behind.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

SCRIPT = Path(sys.executable).with_name("equitoken")
READY_SECONDS = 60.0


def free_port() -> int:
    """Return a loopback port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Server:
    """One ``equitoken serve`` process over one data directory."""

    def __init__(
        self,
        data_dir: Path,
        *,
        args: tuple[str, ...] = ("--sandbox", "--from", "2012-11-19", "--speed", "60"),
        env: Mapping[str, str] | None = None,
        tick: float = 0.2,
        name: str = "server",
    ) -> None:
        self.data_dir = data_dir
        self.args = args
        self.env = dict(env or {})
        self.tick = tick
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.log = data_dir / f"{name}.log"
        """Where the process's output goes (``name``: servers sharing one data directory keep apart)."""

    def start(self) -> Server:
        """Start the server and wait until it answers ``/health``."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = os.environ | {"EQUITOKEN_DATA_DIR": str(self.data_dir)} | self.env
        command = [str(SCRIPT), "serve", "--port", str(self.port), "--tick", str(self.tick), *self.args]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + READY_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"the server exited with {self.process.returncode}:\n{self.log.read_text()}"
                )
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"the server did not answer within {READY_SECONDS} s:\n{self.log.read_text()}")

    def kill(self) -> None:
        """End the server with SIGKILL and wait for it to be gone."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)
        self.process = None

    def stop(self) -> None:
        """End the server with SIGTERM (a clean shutdown), or SIGKILL if it does not go."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        self.process = None

    @property
    def home(self) -> Path:
        """Return where the server keeps its state: a sandbox's own directory, else the data directory."""
        own = "--sandbox" in self.args and "EQUITOKEN_DATABASE_URL" not in self.env
        return self.data_dir / "sandbox" if own else self.data_dir

    def key(self, name: str) -> str:
        """Return the secret of a key file the first start wrote (``operator`` or ``investor``)."""
        return (self.home / f"{name}.key").read_text().strip()

    def client(self, secret: str | None = None) -> httpx.Client:
        """Return an HTTP client for the server, with ``secret`` as its API key."""
        headers = {} if secret is None else {"Authorization": f"Bearer {secret}"}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)
