"""The committed bundle cannot drift from its sources: its hashes match; a rebuild makes the same bytes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import service_missing

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
STATIC = ROOT / "src" / "equitoken" / "api" / "static"
sys.path.insert(0, str(ROOT / "scripts"))
import page_records  # noqa: E402  (the build's own hashing, so the test and `make page` agree)

sys.path.pop(0)


def test_the_committed_bundle_is_the_one_its_recorded_sources_built() -> None:
    recorded = (WEB / "bundle.sha256").read_text()
    assert page_records.hashes(WEB, STATIC / "transparency.js") == recorded, (
        "web/ or the bundle changed since `make page` built it: run `make page` and commit the result"
    )


def test_a_rebuild_from_the_lock_file_makes_the_committed_bundle_byte_for_byte(tmp_path: Path) -> None:
    if shutil.which("npm") is None:
        service_missing("npm", "the page's rebuild needs Node.js and npm")
    copy = tmp_path / "web"
    copy.mkdir()
    shutil.copytree(WEB / "src", copy / "src")
    for name in ("package.json", "package-lock.json"):
        shutil.copy2(WEB / name, copy / name)
    out = tmp_path / "out"
    out.mkdir()
    built = subprocess.run(
        ["bash", str(ROOT / "scripts" / "build-page.sh"), str(out)],
        env=os.environ | {"PAGE_WEB": str(copy)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    if built.returncode != 0 and "ENOTFOUND" in built.stderr + built.stdout:
        service_missing("the npm registry", built.stderr.strip()[-300:])
    assert built.returncode == 0, built.stderr
    assert (out / "transparency.js").read_bytes() == (STATIC / "transparency.js").read_bytes()
    assert (out / "LICENSES.md").read_text() == (WEB / "LICENSES.md").read_text()


def test_every_file_the_page_loads_ships_in_the_package() -> None:
    shipped = {p.name for p in STATIC.iterdir()}
    assert {"transparency.html", "transparency.js", "transparency.css"} <= shipped
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '"api/static/*"' in pyproject
    # Nothing is fetched from elsewhere at run time: no CDN, no remote script or style.
    for name in ("transparency.html", "transparency.css"):
        text = (STATIC / name).read_text()
        assert "http://" not in text and "https://" not in text, name
