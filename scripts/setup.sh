#!/usr/bin/env bash
# Idempotent setup: a virtualenv in .venv with FieldPeer and its extras installed.
# Usage: scripts/setup.sh [--test]   (--test adds what the test suite needs)
# Safe to run again: it only reinstalls when pyproject.toml changed.
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=0
apt_install() {  # apt_install PACKAGE... (non-interactive, once per run)
    if [ "$apt_updated" = 0 ]; then as_root apt-get update -qq; apt_updated=1; fi
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

PY=${PYTHON:-python3}
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "FieldPeer needs Python 3.11 or newer (found: $("$PY" --version 2>&1))." >&2
    exit 1
fi

if [ ! -x .venv/bin/python ]; then
    # Debian splits venv/ensurepip into python3-venv.
    "$PY" -m venv .venv 2>/dev/null || { apt_install python3-venv; rm -rf .venv; "$PY" -m venv .venv; }
fi

if [ "$want_test" = 1 ]; then
    # Integration tests start their own throwaway PostgreSQL with Debian's initdb/pg_ctl.
    if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
        echo "Installing PostgreSQL (for the integration tests) ..."
        apt_install postgresql
    fi
    # Browser tests drive Debian's Chromium (never a downloaded browser build).
    if [ ! -x /usr/bin/chromium ]; then
        echo "Installing Chromium (for the browser tests) ..."
        apt_install chromium
    fi
fi

extras="agency,web"
[ "$want_test" = 1 ] && extras="agency,web,dev"
stamp=".venv/.fieldpeer-installed-$extras"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ requirements.lock -nt "$stamp" ]; then
    echo "Installing FieldPeer ($extras) into .venv ..."
    log=.venv/pip-install.log
    { .venv/bin/python -m pip install --disable-pip-version-check --upgrade pip &&
      .venv/bin/python -m pip install --disable-pip-version-check -c requirements.lock -e ".[$extras]"; } >"$log" 2>&1 \
        || { tail -n 40 "$log" >&2; echo "Installing FieldPeer failed; full log: $log" >&2; exit 1; }
    touch "$stamp"
fi
