"""The compiler: disk and memory caching, artifacts, and the pinned version."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from equitoken.adapters.chain import compiler
from equitoken.adapters.chain.compiler import CONTRACT_NAMES, compile_contract, export_artifacts, source_hash
from equitoken.domain.reasons import Reason


def test_compiler_is_pinned() -> None:
    assert compiler.COMPILER_VERSION == "0.4.3"
    for path in compiler.CONTRACTS_DIR.glob("*.vy"):
        assert path.read_text().startswith("# pragma version ~=0.4.3\n"), path.name


def test_disk_cache_is_reused(tmp_path: Path) -> None:
    contracts = tmp_path / "contracts"
    shutil.copytree(compiler.CONTRACTS_DIR, contracts)
    # a private copy with a changed comment: a new source hash, so a real compile into tmp_path
    stable = contracts / "Stablecoin.vy"
    stable.write_text(stable.read_text() + "\n# cache test\n")
    cache = tmp_path / "cache"
    first = compile_contract("Stablecoin", contracts_dir=contracts, cache_dir=cache)
    files = list(cache.glob("Stablecoin-*.json"))
    assert len(files) == 1
    compiler._memory.clear()
    second = compile_contract("Stablecoin", contracts_dir=contracts, cache_dir=cache)
    assert second == first
    files[0].write_text("{corrupt")
    compiler._memory.clear()
    assert compile_contract("Stablecoin", contracts_dir=contracts, cache_dir=cache) == first


def test_source_hash_covers_imported_modules(tmp_path: Path) -> None:
    contracts = tmp_path / "contracts"
    shutil.copytree(compiler.CONTRACTS_DIR, contracts)
    before = source_hash("SecurityToken", contracts)
    stable_before = source_hash("Stablecoin", contracts)
    (contracts / "access.vy").write_text((contracts / "access.vy").read_text() + "\n")
    assert source_hash("SecurityToken", contracts) != before
    assert source_hash("Stablecoin", contracts) == stable_before  # does not import access


def test_export_artifacts(tmp_path: Path) -> None:
    written = export_artifacts(tmp_path)
    tables = ["reasons.json", "contract-errors.json"]
    assert sorted(p.name for p in written) == sorted([f"{n}.json" for n in CONTRACT_NAMES] + tables)
    errors = json.loads((tmp_path / "contract-errors.json").read_text())
    assert {"name": "QUOTE_EXPIRED", "sentence": "quote: expired"} in errors
    token = json.loads((tmp_path / "SecurityToken.json").read_text())
    assert token["compiler"] == "vyper-0.4.3"
    assert token["bytecode"].startswith("0x") and token["deployedBytecode"].startswith("0x")
    assert token["constructorArguments"] == [
        {"name": "name_", "type": "string"},
        {"name": "symbol_", "type": "string"},
        {"name": "decimals_", "type": "uint8"},
        {"name": "admin", "type": "address"},
        {"name": "compliance_", "type": "address"},
    ]
    assert token["sourceHash"].startswith("sha256:")
    assert set(token["sources"]) == {"SecurityToken.vy", "access.vy", "reasons.vy"}
    reasons = json.loads((tmp_path / "reasons.json").read_text())
    assert [r["code"] for r in reasons] == [int(r) for r in Reason]
    assert reasons[2] == {"code": 2, "name": "SENDER_FROZEN", "sentence": "the sending wallet is frozen"}
