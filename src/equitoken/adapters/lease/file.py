"""The engine's lease beside a SQLite database: an exclusive ``flock`` on a file next to it.

The operating system frees the lock when the process holding the file descriptor dies, so a
SIGKILL leaves nothing to clean up. It works between processes of one machine, which is all a
SQLite file can be shared by.
"""

from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path

from equitoken.domain.errors import DomainError


class FileLease:
    """An exclusive, non-blocking ``flock`` on ``path`` (created if missing; its content is unused)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        self._guard = threading.Lock()

    @property
    def name(self) -> str:
        """Return the lock's description: the lock file."""
        return f"file lock {self.path}"

    def try_acquire(self) -> bool:
        """Take the lock if no other process has it (``STORE_UNAVAILABLE`` if the file cannot be opened)."""
        with self._guard:
            if self._fd is not None:
                return True
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            except OSError as error:
                raise DomainError(
                    "STORE_UNAVAILABLE", f"cannot open the lease file {self.path}: {error.strerror}"
                ) from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                return False
            self._fd = fd
            return True

    def held(self) -> bool:
        """Tell whether this process holds the lock (a file lock is never lost while the process lives)."""
        return self._fd is not None

    def release(self) -> None:
        """Unlock and close the file."""
        with self._guard:
            if self._fd is not None:
                os.close(self._fd)  # closing the last descriptor releases the flock
                self._fd = None
