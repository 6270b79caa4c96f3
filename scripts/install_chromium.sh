#!/usr/bin/env bash
# Installs Debian's chromium (headless browser for the docs-site test) when it is missing.
# Idempotent: does nothing when /usr/bin/chromium exists. Needs root (or passwordless sudo) and
# access to the Debian mirrors; prints one line and exits non-zero when it cannot install.
set -euo pipefail

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
if [ -x "$CHROMIUM" ]; then
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
else
    echo "install_chromium: $CHROMIUM is missing and this user cannot install packages (need root)" >&2
    exit 1
fi

# one installer at a time (parallel test sessions may both get here)
exec 9>/tmp/seedsmetrics-install-chromium.lock
flock 9
if [ -x "$CHROMIUM" ]; then
    exit 0
fi

export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
test -x "$CHROMIUM" || { echo "install_chromium: apt-get finished but $CHROMIUM is missing" >&2; exit 1; }
