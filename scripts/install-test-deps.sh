#!/usr/bin/env bash
# Install what the test suite needs beyond the Rust toolchain: Debian's Chromium, for the
# headless-browser test of the HTML report, and Python 3, which runs the example audit's legacy
# enrollment job. Idempotent; CI runs it before the tests.
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "install-test-deps: run as root (apt-get install ${missing[*]})" >&2
    exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
chromium --version
python3 --version
