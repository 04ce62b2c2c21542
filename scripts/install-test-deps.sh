#!/usr/bin/env bash
# Install what the test suite needs beyond the Rust toolchain: Debian's Chromium, for the
# headless-browser test of the HTML report. Idempotent; CI runs it before the tests.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "install-test-deps: run as root (apt-get install chromium)" >&2
    exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
chromium --version
