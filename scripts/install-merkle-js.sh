#!/usr/bin/env bash
# Install OpenZeppelin's JavaScript Merkle tree (npm package @openzeppelin/merkle-tree, pinned) into the
# project-local prefix .tools/merkle-js and print that prefix. Idempotent: nothing is fetched when the
# pinned version is already there.
#
# Who uses it: the reserves bench (our tree beside OpenZeppelin's, same leaves, same run) and, once, the
# generation of tests/data/oz-merkle-vectors.json. Tests and the demo never install it: they read the
# committed vectors. Its own prefix keeps it out of .tools/package.json, which pins anvil.
set -euo pipefail

version="${MERKLE_JS_VERSION:-1.0.8}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
prefix="$root/.tools/merkle-js"
manifest="$prefix/node_modules/@openzeppelin/merkle-tree/package.json"

installed_pinned() {
  [ -f "$manifest" ] && node -e '
    const v = require(process.argv[1]).version;
    process.exit(v === process.argv[2] ? 0 : 1);
  ' "$manifest" "$version" 2>/dev/null
}

if ! installed_pinned; then
  command -v node >/dev/null 2>&1 || { echo "install-merkle-js: node is not installed (Node.js 18+ needed)" >&2; exit 1; }
  command -v npm >/dev/null 2>&1 || { echo "install-merkle-js: npm is not installed" >&2; exit 1; }
  echo "install-merkle-js: installing @openzeppelin/merkle-tree@$version into $prefix" >&2
  mkdir -p "$prefix"
  # --prefix keeps it out of the global tree and out of ~; the pin is recorded in $prefix/package.json.
  npm install --prefix "$prefix" --no-audit --no-fund --loglevel=error \
    "@openzeppelin/merkle-tree@$version" >&2
  installed_pinned || { echo "install-merkle-js: npm did not provide version $version" >&2; exit 1; }
fi
echo "$prefix"
