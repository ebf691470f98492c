"""Start and stop a local anvil node (Foundry's development chain) for tests, benchmarks and demos.

The node is a child process on a free loopback port, owned by one ``AnvilNode`` and stopped by its
process id — never by name, so other nodes on the machine are left alone. Flags avoid the known traps:

- ``--prune-history N`` keeps the last ``N`` block states in memory and writes nothing to disk (without
  it anvil spills old states into ``~/.foundry``: hundreds of MB over a long run); historical
  ``eth_call`` still works for those ``N`` blocks. ``HOME`` also points at a private temporary directory
  so nothing else lands in the user's home either; it is removed on ``stop``.
- ``--no-mining`` (the default ``mining="manual"``): the backend mines one block per batch with
  ``evm_mine``. Automine seals one block per transaction and stalls under bursts of pre-signed
  transactions; manual mining is faster and keeps a batch in one block.
- ``--order fifo``: a block keeps the order transactions were sent in (anvil's default orders a block by
  fee, which would reorder a batch across senders).
- ``--gas-limit`` very high and ``--no-request-size-limit``: a batch of hundreds of transactions, each
  declaring its gas limit up front, fits one block and one HTTP request.
- ``--accounts 0``: no dev accounts (keys live in our ``KeyRing``; the backend funds them).
"""

from __future__ import annotations

import atexit
import contextlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import weakref
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Literal, Self

from equitoken.domain.errors import DomainError

ANVIL_VERSION = "1.7.1"
"""The version ``scripts/install-anvil.sh`` installs and the tests run against."""

ANVIL_ENV = "EQUITOKEN_ANVIL"
"""Environment variable naming the anvil binary to use (checked before ``.tools/`` and ``PATH``)."""

DEFAULT_CHAIN_ID = 31337
DEFAULT_HISTORY = 256
DEFAULT_GAS_LIMIT = 1_000_000_000_000
_HOST = "127.0.0.1"
_READY_TIMEOUT = 5.0
_STOP_GRACE = 3.0

Mining = Literal["manual", "auto"]

_live: weakref.WeakSet[AnvilNode] = weakref.WeakSet()


def _platform_package() -> str:
    system = {"linux": "linux", "darwin": "darwin", "win32": "win32"}.get(sys.platform, sys.platform)
    machine = os.uname().machine if hasattr(os, "uname") else "x86_64"
    arch = "arm64" if machine in ("arm64", "aarch64") else "amd64"
    return f"anvil-{system}-{arch}"


def _tool_dirs() -> list[Path]:
    """Return the candidate ``.tools`` directories: the working directory's, then the source checkout's."""
    here = Path(__file__).resolve()
    # src/equitoken/adapters/chain/anvil.py -> the checkout root, for an editable install.
    checkout = here.parents[4] if len(here.parents) > 4 else here.parent
    dirs = [Path.cwd() / ".tools", checkout / ".tools"]
    return list(dict.fromkeys(dirs))


def find_anvil() -> Path:
    """Return the anvil binary: ``$EQUITOKEN_ANVIL``, then the project's ``.tools/``, then ``PATH``.

    Raise ``DomainError("NODE_UNAVAILABLE")`` when none is found.
    """
    explicit = os.environ.get(ANVIL_ENV)
    if explicit:
        path = Path(explicit)
        if path.is_file() and os.access(path, os.X_OK):
            return path
        raise DomainError(
            "NODE_UNAVAILABLE", f"{ANVIL_ENV} names {explicit}, which is not an executable file."
        )
    exe = "anvil.exe" if sys.platform == "win32" else "anvil"
    for tools in _tool_dirs():
        candidate = tools / "node_modules" / "@foundry-rs" / _platform_package() / "bin" / exe
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    on_path = shutil.which("anvil")
    if on_path:
        return Path(on_path)
    raise DomainError(
        "NODE_UNAVAILABLE",
        "The anvil binary was not found; run scripts/install-anvil.sh"
        f" (npm @foundry-rs/anvil@{ANVIL_VERSION}), set {ANVIL_ENV}, or put anvil on PATH.",
    )


def free_port() -> int:
    """Return a TCP port on the loopback interface that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((_HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Ask Linux to SIGTERM the node if the Python process dies without stopping it (no orphans)."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)
    except OSError:
        pass


class AnvilNode:
    """One anvil process on a loopback port (a free one unless ``port`` is given); stops on context exit."""

    def __init__(
        self,
        *,
        chain_id: int = DEFAULT_CHAIN_ID,
        mining: Mining = "manual",
        history: int = DEFAULT_HISTORY,
        gas_limit: int = DEFAULT_GAS_LIMIT,
        binary: Path | str | None = None,
        port: int | None = None,
        extra_args: Sequence[str] = (),
        ready_timeout: float = _READY_TIMEOUT,
    ) -> None:
        if history < 1:
            raise DomainError("INVALID_SETTING", "anvil must keep at least one block state (history >= 1).")
        self.chain_id = chain_id
        self.mining: Mining = mining
        self.history = history
        self.gas_limit = gas_limit
        self._binary = Path(binary) if binary is not None else None
        self._extra_args = tuple(extra_args)
        self._ready_timeout = ready_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._home: Path | None = None
        self._fixed_port = port
        self._port: int | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> Self:
        """Start the node and wait until it answers ``eth_chainId`` (at most ``ready_timeout`` seconds)."""
        if self.running:
            return self
        binary = self._binary or find_anvil()
        last_error = ""
        # A port picked by free_port() can be taken before anvil binds it; a fresh port fixes that.
        for _ in range(1 if self._fixed_port else 3):
            self._home = Path(tempfile.mkdtemp(prefix="equitoken-anvil-"))
            self._port = self._fixed_port or free_port()
            log_path = self._home / "anvil.log"
            with open(log_path, "wb") as log:
                self._process = subprocess.Popen(
                    [str(binary), *self.arguments(self._port)],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=self._environment(),
                    preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
                )
            _live.add(self)
            ready, last_error = self._wait_ready(log_path)
            if ready:
                return self
            self.stop()
        raise DomainError(
            "NODE_UNAVAILABLE", f"anvil did not start within {self._ready_timeout:g} s: {last_error}"
        )

    def stop(self) -> None:
        """Stop the node by its process id (terminate, then kill) and remove its private directory."""
        process, self._process = self._process, None
        if process is not None:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=_STOP_GRACE)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            _live.discard(self)
        home, self._home = self._home, None
        if home is not None:
            shutil.rmtree(home, ignore_errors=True)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- facts -----------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """Return whether the process is alive."""
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int:
        """Return the process id of the running node."""
        if self._process is None:
            raise DomainError("NODE_UNAVAILABLE", "The anvil node is not running.")
        return self._process.pid

    @property
    def port(self) -> int:
        """Return the loopback port the node listens on."""
        if self._port is None or not self.running:
            raise DomainError("NODE_UNAVAILABLE", "The anvil node is not running.")
        return self._port

    @property
    def url(self) -> str:
        """Return the node's JSON-RPC URL."""
        return f"http://{_HOST}:{self.port}"

    @property
    def home(self) -> Path | None:
        """Return the private directory the node runs with as ``HOME`` (``None`` when stopped)."""
        return self._home

    def arguments(self, port: int) -> list[str]:
        """Return the command-line flags for a node on ``port`` (see the module docstring for why)."""
        args = [
            "--host", _HOST,
            "--port", str(port),
            "--chain-id", str(self.chain_id),
            "--accounts", "0",
            "--prune-history", str(self.history),
            "--order", "fifo",
            "--gas-limit", str(self.gas_limit),
            "--no-request-size-limit",
            "--quiet",
        ]  # fmt: skip
        if self.mining == "manual":
            args.append("--no-mining")
        return [*args, *self._extra_args]

    # -- internals -------------------------------------------------------------------------------

    def _environment(self) -> dict[str, str]:
        assert self._home is not None
        env = dict(os.environ)
        # anvil (like all of Foundry) keeps its caches under $HOME/.foundry: give it a private home.
        env["HOME"] = str(self._home)
        env.pop("ANVIL_IP_ADDR", None)  # would override --host; we listen on loopback only
        return env

    def _wait_ready(self, log_path: Path) -> tuple[bool, str]:
        deadline = time.monotonic() + self._ready_timeout
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []})
        while time.monotonic() < deadline:
            if self._process is None or self._process.poll() is not None:
                return False, _tail(log_path) or "the process exited"
            connection = http.client.HTTPConnection(_HOST, self._port, timeout=1.0)
            try:
                connection.request("POST", "/", body, {"Content-Type": "application/json"})
                reply = json.loads(connection.getresponse().read())
                if int(reply["result"], 16) == self.chain_id:
                    return True, ""
                return False, f"it answered chain id {reply['result']} instead of {self.chain_id}"
            except (OSError, http.client.HTTPException, ValueError, KeyError):
                time.sleep(0.01)
            finally:
                connection.close()
        return False, _tail(log_path) or "no answer to eth_chainId"

    def __repr__(self) -> str:
        state = f"pid={self._process.pid} port={self._port}" if self.running and self._process else "stopped"
        return f"AnvilNode({state})"


def _tail(path: Path, limit: int = 500) -> str:
    with contextlib.suppress(OSError):
        return path.read_text(errors="replace")[-limit:].strip()
    return ""


@atexit.register
def _stop_all() -> None:
    """Stop every node this process started and did not stop (a forgotten ``stop`` leaves no orphan)."""
    for node in list(_live):
        node.stop()
