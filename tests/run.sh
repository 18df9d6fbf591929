#!/usr/bin/env bash
# Installs what the tests need (Dovecot from Debian when missing, the Python test
# dependencies) and runs every test.  The README gives this as the test command; .ci/run runs it.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v dovecot >/dev/null 2>&1 && [ ! -x /usr/sbin/dovecot ]; then
    export DEBIAN_FRONTEND=noninteractive
    sudo_cmd=""
    [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    # A policy-rc.d that says no keeps the package from starting a system-wide Dovecot:
    # the tests start their own instances, with their own config, on free loopback ports.
    added_policy=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' | $sudo_cmd tee /usr/sbin/policy-rc.d >/dev/null
        $sudo_cmd chmod +x /usr/sbin/policy-rc.d
        added_policy=yes
    fi
    $sudo_cmd apt-get update -qq
    $sudo_cmd apt-get install -y -qq --no-install-recommends dovecot-imapd openssl >/dev/null
    [ -z "$added_policy" ] || $sudo_cmd rm -f /usr/sbin/policy-rc.d
fi

# Test dependencies, then every test (integration tests start their own Dovecot servers).
python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore -e '.[test]' && exec python3 -m pytest "$@"
