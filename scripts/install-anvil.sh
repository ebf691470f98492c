#!/usr/bin/env bash
# Install the anvil node (npm package @foundry-rs/anvil, pinned) into the project-local prefix .tools/
# and print the path of its binary. Idempotent: nothing is fetched when the pinned binary already runs.
#
# Why npm: it is the one registry reachable from CI, and the package ships a prebuilt binary per platform
# as an optional dependency. npm 11 skips the package's postinstall, so we never rely on its bin shim
# (bin.mjs); we locate the platform binary ourselves and make sure it is executable.
set -euo pipefail

version="${ANVIL_VERSION:-1.7.1}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
prefix="$root/.tools"

case "$(uname -s)" in
  Linux) os=linux ;;
  Darwin) os=darwin ;;
  MINGW* | MSYS* | CYGWIN*) os=win32 ;;
  *) echo "install-anvil: unsupported system $(uname -s)" >&2; exit 1 ;;
esac
case "$(uname -m)" in
  x86_64 | amd64) arch=amd64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "install-anvil: unsupported architecture $(uname -m)" >&2; exit 1 ;;
esac
exe=anvil
[ "$os" = win32 ] && exe=anvil.exe
binary="$prefix/node_modules/@foundry-rs/anvil-$os-$arch/bin/$exe"

# The version line reads "anvil Version: 1.7.1-..." — match the pin, so a bump reinstalls.
runs_pinned() {
  [ -x "$binary" ] && "$binary" --version 2>/dev/null | grep -qE "Version: ${version//./\\.}([^0-9.]|$)"
}

if ! runs_pinned; then
  command -v npm >/dev/null 2>&1 || { echo "install-anvil: npm is not installed (Node.js 18+ needed)" >&2; exit 1; }
  echo "install-anvil: installing @foundry-rs/anvil@$version into $prefix" >&2
  mkdir -p "$prefix"
  # --prefix keeps it out of the global tree; --no-save is not used so .tools/package.json records the pin.
  npm install --prefix "$prefix" --no-audit --no-fund --loglevel=error "@foundry-rs/anvil@$version" >&2
  [ -f "$binary" ] || { echo "install-anvil: npm did not provide $binary" >&2; exit 1; }
  chmod +x "$binary"
  runs_pinned || { echo "install-anvil: $binary does not run or is not version $version" >&2; exit 1; }
fi
echo "$binary"
