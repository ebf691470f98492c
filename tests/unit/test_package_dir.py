"""A package directory is replaced as one unit: the whole old one or the whole new one, never a mix."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from equitoken.app import package_dir
from equitoken.app.package_dir import check_target, publish
from equitoken.domain.errors import DomainError

OLD = {"attestation.json": b'{"old":1}', "holders-AAPL.csv": b"holder,balance\n", "holders-KO.csv": b"old"}
NEW = {"attestation.json": b'{"new":2}', "holders-AAPL.csv": b"holder,balance\n1\n", "holders-MSFT.csv": b"n"}


def contents(directory: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(directory.iterdir())}


def siblings(target: Path) -> list[str]:
    return sorted(path.name for path in target.parent.iterdir() if path != target)


def test_a_new_package_is_written_whole(tmp_path: Path) -> None:
    target = tmp_path / "reserves"
    written = publish(NEW, target)
    assert written == [target / name for name in NEW]
    assert contents(target) == NEW
    assert siblings(target) == []


def test_a_previous_package_is_replaced_whole_and_its_stale_lists_go(tmp_path: Path) -> None:
    target = tmp_path / "reserves"
    publish(OLD, target)
    publish(NEW, target)
    assert contents(target) == NEW  # holders-KO.csv of the old package is not left beside the new one
    assert siblings(target) == []


def test_the_fallback_without_an_atomic_exchange_also_replaces_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(package_dir, "_exchange", lambda first, second: False)
    target = tmp_path / "reserves"
    publish(OLD, target)
    publish(NEW, target)
    assert contents(target) == NEW and siblings(target) == []


class FailingWriter:
    """Write the first ``after`` files, then fail the way a full disk does."""

    def __init__(self, after: int, error: BaseException | None = None) -> None:
        self.after = after
        self.error = error or OSError(28, "No space left on device")
        self.written = 0

    def __call__(self, path: Path, data: bytes) -> None:
        if self.written == self.after:
            raise self.error
        path.write_bytes(data)
        self.written += 1


@pytest.mark.parametrize("after", range(len(NEW)))
def test_a_failure_midway_leaves_the_old_package_intact(tmp_path: Path, after: int) -> None:
    target = tmp_path / "reserves"
    publish(OLD, target)
    with pytest.raises(DomainError) as refused:
        publish(NEW, target, write=FailingWriter(after))
    assert refused.value.code == "FILE_UNWRITABLE" and "No space left" in refused.value.message
    assert contents(target) == OLD
    assert siblings(target) == []  # the half-built directory is removed


def test_an_unexpected_error_midway_also_leaves_the_old_package(tmp_path: Path) -> None:
    target = tmp_path / "reserves"
    publish(OLD, target)
    with pytest.raises(KeyboardInterrupt):
        publish(NEW, target, write=FailingWriter(1, KeyboardInterrupt()))
    assert contents(target) == OLD and siblings(target) == []


KILLED = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from equitoken.app.package_dir import publish

    after = int(sys.argv[2])
    count = [0]

    def write(path, data):
        if count[0] == after:
            os.kill(os.getpid(), signal.SIGKILL)
        path.write_bytes(data)
        count[0] += 1

    publish({"attestation.json": b"new", "holders-AAPL.csv": b"new", "holders-MSFT.csv": b"new"},
            Path(sys.argv[1]), write=write)
    """
)


@pytest.mark.parametrize("after", [0, 2])
def test_a_kill_while_writing_leaves_the_old_package_readable(tmp_path: Path, after: int) -> None:
    target = tmp_path / "reserves"
    publish(OLD, target)
    source = Path(package_dir.__file__).parents[2]
    done = subprocess.run(
        [sys.executable, "-c", KILLED, str(target), str(after)],
        env={**os.environ, "PYTHONPATH": str(source)},
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert contents(target) == OLD
    publish(NEW, target)  # a later run publishes over it normally
    assert contents(target) == NEW


def test_a_file_or_a_foreign_directory_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    a_file = tmp_path / "report.txt"
    a_file.write_text("mine")
    with pytest.raises(DomainError) as is_file:
        publish(NEW, a_file)
    assert is_file.value.code == "OUT_NOT_A_DIRECTORY"
    with pytest.raises(DomainError) as under_file:
        check_target(a_file / "reserves")
    assert under_file.value.code == "OUT_NOT_A_DIRECTORY"
    home = tmp_path / "home"
    home.mkdir()
    (home / "thesis.tex").write_text("years of work")
    with pytest.raises(DomainError) as foreign:
        publish(NEW, home)
    assert foreign.value.code == "OUT_NOT_A_PACKAGE" and "thesis.tex" in foreign.value.message
    assert contents(home) == {"thesis.tex": b"years of work"}  # never swapped away
    link = tmp_path / "link"
    link.symlink_to(home)
    with pytest.raises(DomainError) as linked:
        check_target(link)
    assert linked.value.code == "OUT_NOT_A_DIRECTORY"
    assert a_file.read_text() == "mine"


def test_an_empty_directory_or_the_old_writers_partial_files_are_a_package_place(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    publish(NEW, empty)
    assert contents(empty) == NEW
    legacy = tmp_path / "legacy"
    legacy.mkdir()
    (legacy / ".attestation.json.partial").write_bytes(b"half")
    publish(NEW, legacy)
    assert contents(legacy) == NEW
