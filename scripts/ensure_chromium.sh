#!/bin/sh
# Installs Debian's chromium for the browser tests (tests/e2e, marked `browser`) when it is missing.
# The tests drive /usr/bin/chromium through Playwright for Python; no browser is ever downloaded
# by Playwright itself (never run `playwright install`).
set -eu
if [ -x /usr/bin/chromium ]; then
    exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ] && command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
fi
$SUDO apt-get update
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends chromium
/usr/bin/chromium --version
