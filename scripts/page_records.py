"""Write web/LICENSES.md (every npm package in the bundle, with its licence) and web/bundle.sha256.

Called by scripts/build-page.sh with the web directory, esbuild's metafile, the bundle and where to
write. A bundled package whose licence is not permissive fails the build: only MIT, ISC, BSD, 0BSD and
Apache-2.0 code is shipped with the page.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

PERMISSIVE = {"MIT", "ISC", "0BSD", "BSD-2-Clause", "BSD-3-Clause", "Apache-2.0", "(Apache-2.0 AND MIT)"}
HASHED = ("package.json", "package-lock.json")


def package_of(source: str) -> str | None:
    """Return the lock file key (``node_modules/...``) of a bundled file, or None for our own source."""
    if "node_modules/" not in source:
        return None
    head, _, tail = source.rpartition("node_modules/")
    parts = tail.split("/")
    name = "/".join(parts[:2]) if parts[0].startswith("@") else parts[0]
    prefix = head[head.index("node_modules/"):] if "node_modules/" in head else ""
    return f"{prefix}node_modules/{name}"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def hashes(web: Path, bundle: Path) -> str:
    """Return the sha256 lines of the sources, the lock file and the bundle (sorted, stable)."""
    sources = sorted(p for p in (web / "src").rglob("*") if p.is_file())
    lines = [f"{digest(p)}  {p.relative_to(web).as_posix()}" for p in sources]
    lines += [f"{digest(web / name)}  {name}" for name in HASHED]
    lines.append(f"{digest(bundle)}  ../src/equitoken/api/static/{bundle.name}")
    return "\n".join(lines) + "\n"


def licences(web: Path, meta: Path) -> str:
    lock = json.loads((web / "package-lock.json").read_text())["packages"]
    inputs = next(iter(json.loads(meta.read_text())["outputs"].values()))["inputs"]
    found: dict[str, tuple[str, str]] = {}
    for source in inputs:
        key = package_of(source)
        if key is not None:
            entry = lock[key]
            found[key.replace("node_modules/", "")] = (entry["version"], entry.get("license", "UNKNOWN"))
    refused = {name: lic for name, (_, lic) in found.items() if lic not in PERMISSIVE}
    if refused:
        sys.exit(f"page_records: not permissive, so not shipped: {refused}")
    rows = [f"| {name} | {version} | {lic} |" for name, (version, lic) in sorted(found.items())]
    return (
        "# npm packages bundled into the transparency page\n\n"
        "Written by `make page` (scripts/page_records.py) from esbuild's metafile and the lock file: every\n"
        "package with code in `src/equitoken/api/static/transparency.js`, and its licence. Only permissive\n"
        "licences are shipped; their notices are kept at the end of the bundle (`--legal-comments=eof`).\n\n"
        "| package | version | licence |\n|---|---|---|\n" + "\n".join(rows) + "\n"
    )


def main() -> None:
    web, meta, bundle, out = (Path(arg) for arg in sys.argv[1:5])
    (out / "LICENSES.md").write_text(licences(web, meta))
    (out / "bundle.sha256").write_text(hashes(web, bundle))


if __name__ == "__main__":
    main()
