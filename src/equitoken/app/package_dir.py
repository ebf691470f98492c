"""Publish a directory of files as one unit: built beside its place, then moved in by one rename.

An attestation package is a signed document and the holder lists its roots were built from; a reader
must never see a new document beside old holder lists. So the files are written into a fresh sibling
directory (``.NAME.tmp-XXXX``), flushed to disk, and then one rename puts the whole directory in
place. When a previous package is there, the two directories are *exchanged* atomically (Linux
``renameat2(RENAME_EXCHANGE)``) and the old one, now under the temporary name, is deleted: a kill at
any instant leaves either the whole old package or the whole new one at the path. Where the exchange
is not available, the old directory is renamed aside first and the new one renamed in; a kill between
those two renames leaves no package at the path (readers then refuse, they never mix) and both
complete directories beside it.

The target is checked before any work is done (``check_target``): a file, or a directory holding
anything but a package, is refused, so a wrong ``--out`` never costs a whole run, and an unrelated
directory is never swapped away.
"""

from __future__ import annotations

import ctypes
import errno
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

from equitoken.domain.errors import DomainError

FileWriter = Callable[[Path, bytes], None]
"""Write ``data`` to a new file at ``path`` (the default also flushes it to disk)."""

_PACKAGE_FILE = re.compile(r"^(attestation\.json|holders-[^/]{1,32}\.csv|\.[\w.\-]+\.partial)$")
"""What a package directory may hold: the document, holder lists, and the old writer's partial files."""
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def check_target(target: Path) -> None:
    """Refuse a target that cannot take a package, before anything is computed.

    ``OUT_NOT_A_DIRECTORY``: the path (or a parent) is a file. ``OUT_NOT_A_PACKAGE``: an existing
    directory holds other files (replacing it would throw them away). ``FILE_UNWRITABLE``: no
    directory can be created beside it.
    """
    if target.is_symlink():
        raise DomainError("OUT_NOT_A_DIRECTORY", f"{target} is a symbolic link; give the directory itself")
    if target.exists() and not target.is_dir():
        raise DomainError("OUT_NOT_A_DIRECTORY", f"{target} is a file, not a directory for the package")
    if target.is_dir():
        foreign = sorted(entry.name for entry in _entries(target) if not _PACKAGE_FILE.match(entry.name))
        if foreign:
            shown = ", ".join(foreign[:3]) + (" …" if len(foreign) > 3 else "")
            raise DomainError(
                "OUT_NOT_A_PACKAGE",
                f"{target} holds files that are not part of an attestation package ({shown}); "
                "give an empty or new directory",
            )
    parent = _parent(target)
    for ancestor in (parent, *parent.parents):
        if ancestor.exists():
            if not ancestor.is_dir():
                raise DomainError("OUT_NOT_A_DIRECTORY", f"{ancestor} is a file, so {target} cannot be made")
            break
    try:
        parent.mkdir(parents=True, exist_ok=True)
        os.rmdir(tempfile.mkdtemp(prefix=f".{target.name}.probe-", dir=parent))
    except OSError as error:
        raise _unwritable(parent, error) from None


def publish(files: Mapping[str, bytes], target: Path, *, write: FileWriter | None = None) -> list[Path]:
    """Write ``files`` (name → bytes) as the directory ``target``, replacing a previous one as one unit.

    Return the paths of the files in place, in the order given. On any failure nothing at ``target``
    has changed and the temporary directory is removed (``FILE_UNWRITABLE``).
    """
    check_target(target)
    writer = write or _write_durably
    parent = _parent(target)
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=parent))
    except OSError as error:
        raise _unwritable(parent, error) from None
    try:
        for name in files:
            if "/" in name or name in ("", ".", ".."):
                raise DomainError("INVALID_PATH", f"{name!r} is not a file name")
            writer(staging / name, files[name])
        _sync_directory(staging)
        _move_into_place(staging, target)
    except OSError as error:
        shutil.rmtree(staging, ignore_errors=True)
        raise _unwritable(target, error) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    # After an exchange the staging name holds the old package; after a plain rename it is gone.
    shutil.rmtree(staging, ignore_errors=True)
    _sync_directory(parent)
    return [target / name for name in files]


def _move_into_place(staging: Path, target: Path) -> None:
    if not target.exists():
        os.rename(staging, target)  # a target created meanwhile and not empty makes this fail: refused
        return
    if _exchange(staging, target):
        return
    aside = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=_parent(target)))
    os.rmdir(aside)
    os.rename(target, aside)
    try:
        os.rename(staging, target)
    except OSError:
        os.rename(aside, target)  # put the old package back before reporting the failure
        raise
    shutil.rmtree(aside, ignore_errors=True)


def _exchange(first: Path, second: Path) -> bool:
    """Swap two paths atomically; return ``False`` where the system cannot (the caller falls back)."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    result = renameat2(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False  # a file system or kernel without RENAME_EXCHANGE
    raise OSError(code, os.strerror(code), str(second))


def _write_durably(path: Path, data: bytes) -> None:
    with path.open("xb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())


def _sync_directory(directory: Path) -> None:
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return  # a platform that cannot open directories has nothing to flush this way
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def _entries(directory: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(directory) as scan:
            return list(scan)
    except OSError as error:
        raise _unwritable(directory, error) from None


def _parent(target: Path) -> Path:
    return target.absolute().parent


def _unwritable(where: Path, error: OSError) -> DomainError:
    return DomainError("FILE_UNWRITABLE", f"cannot write to {where}: {error.strerror or error}")
