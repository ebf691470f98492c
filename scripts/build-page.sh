#!/usr/bin/env bash
# Build the transparency page's script from web/ (what `make page` runs): install exactly the lock file's
# packages (npm ci), bundle web/src with esbuild into one file, record the licence of every npm package
# that ends up in it (web/LICENSES.md; a licence that is not permissive fails the build), and write the
# hashes the drift test compares (web/bundle.sha256). The bundle is committed, so serving the page
# needs no npm; a test rebuilds it and checks the committed file is byte for byte what the sources make.
#
# Usage: scripts/build-page.sh [OUT_DIR]   (default: the package's src/equitoken/api/static/ and web/)
# PAGE_WEB=DIR builds the sources in DIR instead of web/ (the drift test builds a copy).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
web="${PAGE_WEB:-$root/web}"
static="${1:-$root/src/equitoken/api/static}"
records="${1:-$web}"
command -v npm >/dev/null 2>&1 || { echo "build-page: npm is not installed (Node.js 18+ needed)" >&2; exit 1; }
cd "$web"
npm ci --no-audit --no-fund --loglevel=error >&2
meta="$(mktemp)"
trap 'rm -f "$meta"' EXIT
npm run --silent build -- --outfile="$static/transparency.js" --metafile="$meta"
python3 "$root/scripts/page_records.py" "$web" "$meta" "$static/transparency.js" "$records"
