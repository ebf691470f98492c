"""Fixtures: one sandbox server per module (starting one takes seconds), and fresh ones where needed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.service.server import Server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Return a running sandbox on Thanksgiving week 2012 at 60× (one wall second is a minute there)."""
    running = Server(Path(tmp_path_factory.mktemp("serve"))).start()
    try:
        yield running
    finally:
        running.stop()
