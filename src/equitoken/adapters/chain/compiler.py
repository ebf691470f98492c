"""Compile equitoken's Vyper contracts from Python, cache the results, and export standard artifacts.

The sources live in ``contracts/`` beside this module: the deployable contracts (``CONTRACT_NAMES``) and
two modules they import (``access.vy``: roles; ``reasons.vy``: the reason-code constants). Compiling
takes a fraction of a second per contract, so results are cached twice: in memory (per process) and on
disk (per machine) under ``$EQUITOKEN_CACHE_DIR/contracts`` (default ``~/.cache/equitoken/contracts``),
keyed by the source hash and the compiler version. The source hash is SHA-256 over the contract's file
and every module it imports, plus the target EVM version, so editing a module recompiles its importers.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import vyper
from vyper.compiler.input_bundle import FilesystemInputBundle
from vyper.compiler.settings import Settings

from equitoken.domain.contract_errors import CONTRACT_ERRORS
from equitoken.domain.reasons import SENTENCES, Reason

CONTRACTS_DIR = Path(__file__).resolve().parent / "contracts"
CONTRACT_NAMES: tuple[str, ...] = (
    "IdentityRegistry",
    "Compliance",
    "SecurityToken",
    "Stablecoin",
    "QuoteSettlement",
    "ConstantProductPool",
    "ReserveRegistry",
    "ReserveFeed",
)
"""The deployable contracts, in deployment order."""
MODULE_NAMES: tuple[str, ...] = ("access", "reasons")
"""Vyper modules the contracts import; not deployable on their own."""
COMPILER_VERSION: str = str(vyper.__version__)
EVM_VERSION = "cancun"
"""Pinned target: supported by revm (pyrevm), anvil and every mainstream EVM chain."""
SOURCE_HASH_ALGORITHM = (
    "sha256 over 'evm:<version>' NUL, then for the contract file and each imported module "
    "(sorted by name): '<file name>' NUL '<content>' NUL"
)
_IMPORT = re.compile(r"^import\s+(\w+)", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class CompiledContract:
    """One compiled contract: its ABI, creation and runtime bytecode, and where it came from."""

    name: str
    abi: tuple[dict[str, Any], ...]
    bytecode: bytes
    runtime: bytes
    source_hash: str
    """``sha256:<hex>`` as described by ``SOURCE_HASH_ALGORITHM``."""
    compiler_version: str

    def constructor_inputs(self) -> tuple[dict[str, str], ...]:
        """Return the constructor's arguments as ``{"name", "type"}`` pairs (empty if it has none)."""
        for entry in self.abi:
            if entry.get("type") == "constructor":
                return tuple({"name": str(i["name"]), "type": str(i["type"])} for i in entry["inputs"])
        return ()

    def artifact(self) -> dict[str, Any]:
        """Return the standard JSON artifact (what ``export_artifacts`` writes for this contract)."""
        return {
            "contractName": self.name,
            "abi": list(self.abi),
            "bytecode": "0x" + self.bytecode.hex(),
            "deployedBytecode": "0x" + self.runtime.hex(),
            "constructorArguments": list(self.constructor_inputs()),
            "compiler": f"vyper-{self.compiler_version}",
            "evmVersion": EVM_VERSION,
            "sourceHash": self.source_hash,
            "sourceHashAlgorithm": SOURCE_HASH_ALGORITHM,
        }


def default_cache_dir() -> Path:
    """Return the on-disk cache directory (``$EQUITOKEN_CACHE_DIR/contracts`` or the user cache)."""
    root = os.environ.get("EQUITOKEN_CACHE_DIR")
    base = Path(root) if root else Path.home() / ".cache" / "equitoken"
    return base / "contracts"


def source_files(name: str, contracts_dir: Path = CONTRACTS_DIR) -> list[Path]:
    """Return the contract's file followed by every local module it imports (transitively, sorted)."""
    main = contracts_dir / f"{name}.vy"
    if not main.is_file():
        raise FileNotFoundError(f"no contract source {main}")
    seen: set[str] = set()
    pending = [main]
    while pending:
        text = pending.pop().read_text(encoding="utf-8")
        for module in _IMPORT.findall(text):
            path = contracts_dir / f"{module}.vy"
            if module not in seen and path.is_file():
                seen.add(module)
                pending.append(path)
    return [main, *(contracts_dir / f"{m}.vy" for m in sorted(seen))]


def source_hash(name: str, contracts_dir: Path = CONTRACTS_DIR) -> str:
    """Return ``sha256:<hex>`` of the contract and its imported modules (see ``SOURCE_HASH_ALGORITHM``)."""
    digest = hashlib.sha256(f"evm:{EVM_VERSION}".encode() + b"\0")
    for path in source_files(name, contracts_dir):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return "sha256:" + digest.hexdigest()


_memory: dict[tuple[str, str, str], CompiledContract] = {}
_lock = threading.Lock()


def _from_json(data: Mapping[str, Any]) -> CompiledContract:
    return CompiledContract(
        name=str(data["name"]),
        abi=tuple(data["abi"]),
        bytecode=bytes.fromhex(str(data["bytecode"])),
        runtime=bytes.fromhex(str(data["runtime"])),
        source_hash=str(data["source_hash"]),
        compiler_version=str(data["compiler_version"]),
    )


def _to_json(compiled: CompiledContract) -> dict[str, Any]:
    return {
        "name": compiled.name,
        "abi": list(compiled.abi),
        "bytecode": compiled.bytecode.hex(),
        "runtime": compiled.runtime.hex(),
        "source_hash": compiled.source_hash,
        "compiler_version": compiled.compiler_version,
    }


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        # mkstemp makes the file 0600; artifacts are public build outputs: read for all, as umask allows.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _compile(name: str, contracts_dir: Path, hashed: str) -> CompiledContract:
    main = contracts_dir / f"{name}.vy"
    output = vyper.compile_code(
        main.read_text(encoding="utf-8"),
        contract_path=main.name,
        input_bundle=FilesystemInputBundle([contracts_dir]),
        settings=Settings(evm_version=EVM_VERSION),
        output_formats=["abi", "bytecode", "bytecode_runtime"],
    )
    return CompiledContract(
        name=name,
        abi=tuple(output["abi"]),
        bytecode=bytes.fromhex(output["bytecode"].removeprefix("0x")),
        runtime=bytes.fromhex(output["bytecode_runtime"].removeprefix("0x")),
        source_hash=hashed,
        compiler_version=COMPILER_VERSION,
    )


def compile_contract(
    name: str, *, contracts_dir: Path = CONTRACTS_DIR, cache_dir: Path | None = None
) -> CompiledContract:
    """Compile the contract ``name`` (e.g. ``"SecurityToken"``), from the memory or disk cache if possible.

    A corrupt or unreadable cache entry is ignored and rewritten; a cache directory that cannot be
    written only costs a recompilation next time.
    """
    hashed = source_hash(name, contracts_dir)
    key = (name, hashed, COMPILER_VERSION)
    with _lock:
        cached = _memory.get(key)
        if cached is not None:
            return cached
        directory = cache_dir if cache_dir is not None else default_cache_dir()
        path = directory / f"{name}-{hashed.removeprefix('sha256:')[:24]}-vyper-{COMPILER_VERSION}.json"
        compiled: CompiledContract | None = None
        try:
            candidate = _from_json(json.loads(path.read_text(encoding="utf-8")))
            if candidate.source_hash == hashed and candidate.name == name:
                compiled = candidate
        except (OSError, ValueError, KeyError, TypeError):
            compiled = None
        if compiled is None:
            compiled = _compile(name, contracts_dir, hashed)
            with contextlib.suppress(OSError):  # an unwritable cache only costs a recompilation
                _write_atomically(path, json.dumps(_to_json(compiled)))
        _memory[key] = compiled
        return compiled


def compile_all(
    names: Iterable[str] = CONTRACT_NAMES,
    *,
    contracts_dir: Path = CONTRACTS_DIR,
    cache_dir: Path | None = None,
) -> dict[str, CompiledContract]:
    """Compile every named contract (default: all deployable ones) and return them by name."""
    return {n: compile_contract(n, contracts_dir=contracts_dir, cache_dir=cache_dir) for n in names}


def reason_table() -> list[dict[str, Any]]:
    """Return the reason-code table as JSON-ready rows: code, name, sentence."""
    return [{"code": int(r), "name": r.name, "sentence": SENTENCES[r]} for r in Reason]


def export_artifacts(directory: Path | str, *, cache_dir: Path | None = None) -> list[Path]:
    """Write ``NAME.json`` per deployable contract, ``reasons.json`` and ``contract-errors.json``.

    Each artifact holds ``abi``, ``bytecode`` and ``deployedBytecode`` (0x-hex), ``constructorArguments``
    (names and types from the ABI), ``compiler`` ("vyper-0.4.3"), ``evmVersion``, ``sourceHash`` (SHA-256,
    see ``sourceHashAlgorithm``) and ``sources`` (file name -> content, for verification). Return the
    paths written.
    """
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name, compiled in compile_all(cache_dir=cache_dir).items():
        artifact = compiled.artifact()
        artifact["sources"] = {p.name: p.read_text(encoding="utf-8") for p in source_files(name)}
        path = target / f"{name}.json"
        _write_atomically(path, json.dumps(artifact, indent=2) + "\n")
        written.append(path)
    reasons_path = target / "reasons.json"
    _write_atomically(reasons_path, json.dumps(reason_table(), indent=2) + "\n")
    written.append(reasons_path)
    errors_path = target / "contract-errors.json"  # the other revert vocabulary: non-rule errors
    errors = [{"name": code, "sentence": sentence} for code, sentence in sorted(CONTRACT_ERRORS.items())]
    _write_atomically(errors_path, json.dumps(errors, indent=2) + "\n")
    written.append(errors_path)
    return written
