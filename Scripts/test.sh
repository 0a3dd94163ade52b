#!/usr/bin/env bash
# Builds Lakebed, runs the Swift tests, then the end-to-end suite with the real rucio client, then builds the wheel
# (release build, Swift runtime linked in) and runs examples/pytest-user and the pytest plugin's tests with it in a
# new virtualenv without Swift (LAKEBED_SKIP_WHEEL=1 skips that last stage).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== swift build"
swift build
echo "== swift test"
swift test

echo "== python venv (.venv) with rucio-clients, fts3, pyjwt, rucio-jupyterlab, websocket-client, paramiko (the client's SSH login); chromium, gfal2, davix"
# The fts3 client needs M2Crypto, which builds from source with swig and OpenSSL's headers.
if ! command -v swig >/dev/null || [ ! -e /usr/include/openssl/ssl.h ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get install -y -q swig libssl-dev >/dev/null 2>&1 || { $SUDO apt-get update -q >/dev/null && $SUDO apt-get install -y -q swig libssl-dev >/dev/null; }
fi
# The dashboard test drives a real headless Chromium (Debian's package) over the DevTools protocol.
if ! command -v chromium >/dev/null; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  { $SUDO apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends chromium >/dev/null; } \
    || echo "WARNING: could not install chromium; the dashboard test will fail" >&2
fi
# The WLCG storage clients (gfal2 with its HTTP and file plugins, davix), as sites and FTS use them: Debian's packages.
if ! command -v gfal-copy >/dev/null || ! command -v davix-put >/dev/null || [ ! -e /usr/lib/x86_64-linux-gnu/gfal2-plugins/libgfal_plugin_file.so ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  { $SUDO apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends \
      gfal2 gfal2-plugin-http gfal2-plugin-file gfal2-util-scripts python3-gfal2 davix >/dev/null; } \
    || echo "WARNING: could not install gfal2/davix; test_wlcg_clients.py will be skipped" >&2
fi
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/pip install -q --disable-pip-version-check "rucio-clients==41.5.1" "pytest==9.0.3" "requests" "pyjwt[crypto]==2.10.1" "fts3==3.14.2" "rucio-jupyterlab==41.0.0" "websocket-client==1.9.0" "paramiko==5.1.0"

echo "== end-to-end tests (real rucio CLI and Python client)"
export LAKEBED_BIN="$PWD/.build/debug/lakebed"
(cd Tests/e2e && ../../.venv/bin/python -m pytest -q -p no:cacheprovider "$@")

echo "== conformance: the same requests to the real Rucio 41.5.1 server (PyPI rucio + gunicorn, .venv-rucio) and Lakebed"
# The server venv is created on first use by Tests/conformance/realrucio.py and cached in .venv-rucio.
.venv/bin/python -m pytest -q -p no:cacheprovider Tests/conformance
.venv-rucio/bin/python Tests/conformance/coverage.py .venv/lib/python3*/site-packages/rucio \
  artifacts/conformance-results.json "$LAKEBED_BIN" artifacts/api-coverage.md

if [ "${LAKEBED_SKIP_WHEEL:-}" != 1 ]; then
  echo "== wheel: release build with the Swift runtime linked in, auditwheel (Scripts/wheel)"
  bash Scripts/wheel
  echo "== the wheel in a new virtualenv without Swift: examples/pytest-user and the plugin's tests (Scripts/test-wheel)"
  bash Scripts/test-wheel
fi
