#!/usr/bin/env bash
# Build the FieldPeer app for Android on a machine WITH network access:
#   scripts/build-android.sh          -> build/apk/  (flet build apk: an APK to sideload or hand out by MDM)
#   scripts/build-android.sh aab      -> build/aab/  (flet build aab: the bundle Google Play takes)
# Extra arguments go to `flet build` (e.g. --split-per-abi, --arch arm64-v8a).
#
# The development and CI machine of this project cannot build it: the first `flet build` downloads
# the Flutter SDK, a JDK 17 and the Android SDK (several GB) and the phone's Python packages from
# Flet's mobile package index. What it builds is configured in pyproject.toml, [tool.flet].
# Signing a release: set FLET_ANDROID_SIGNING_KEY_STORE, FLET_ANDROID_SIGNING_KEY_ALIAS,
# FLET_ANDROID_SIGNING_KEY_STORE_PASSWORD and FLET_ANDROID_SIGNING_KEY_PASSWORD (never in
# pyproject.toml); without them the build is signed with a debug key (fine for testing).
set -euo pipefail
cd "$(dirname "$0")/.."

target=${1:-apk}
[ $# -gt 0 ] && shift
case "$target" in
    apk|aab) ;;
    *) echo "usage: $0 [apk|aab] [flet build options]" >&2; exit 2 ;;
esac

PY=${PYTHON:-python3}
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
    echo "The build needs Python 3.10 or newer for the Flet CLI (found: $("$PY" --version 2>&1))." >&2
    exit 1
fi

# The CLI that matches the app's flet (1.0.5), in its own virtualenv, not the newest one.
venv=.cache/build-venv
if [ ! -x "$venv/bin/flet" ]; then
    "$PY" -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check "flet==1.0.5" "flet-cli==1.0.5"
fi

# The phone's Python: 3.12 (3.13 works too; tests/test_mobile_deps.py runs the device suite on
# both). Left to itself the CLI takes the newest line requires-python allows (3.14), for which
# Flet's mobile index has no cryptography 43 build.
phone_python=${PHONE_PYTHON:-3.12}

echo "Building FieldPeer ($target, Python $phone_python); the first build downloads Flutter, a JDK and the Android SDK." >&2
if [ "$target" = aab ]; then
    exec "$venv/bin/flet" build aab . --python-version "$phone_python" --yes "$@"
fi
exec "$venv/bin/flet" build apk . --python-version "$phone_python" --yes "$@"
