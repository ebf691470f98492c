#!/usr/bin/env bash
# Install Debian's Chromium and its ChromeDriver (packages chromium, chromium-driver) for the page's
# browser tests and the page bench, when they are missing. Never a browser downloaded by a test tool:
# the tests drive /usr/bin/chromium through /usr/bin/chromedriver. Needs root (or sudo) and apt-get.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
  exit 0
fi
command -v apt-get >/dev/null 2>&1 || { echo "install-browser: no apt-get here; install chromium and chromedriver" >&2; exit 1; }
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "install-browser: installing chromium and chromium-driver from Debian's packages" >&2
$sudo apt-get update -qq >&2
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium chromium-driver >&2
command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1
