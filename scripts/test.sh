#!/usr/bin/env bash
# The whole suite against real PostgreSQL and Redis, plus ruff, plus a real Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${VENV:-.venv}/bin"  # make passes VENV

# Debian packages the suite drives: Chromium for the browser tests, docker-compose to check the compose file,
# Pango for WeasyPrint (the monthly report's PDF), poppler's pdftoppm to turn that PDF into pictures.
needed=()
command -v chromium >/dev/null || needed+=(chromium)
command -v docker-compose >/dev/null || needed+=(docker-compose)
/sbin/ldconfig -p 2>/dev/null | grep -q libpangoft2-1.0 || needed+=(libpango-1.0-0 libpangoft2-1.0-0)
command -v pdftoppm >/dev/null || needed+=(poppler-utils)
if ((${#needed[@]})); then
  echo "Installing ${needed[*]} from Debian's packages" >&2
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${needed[@]}" >/dev/null
fi

scripts/services.sh

export UNIVIEW_VAR_DIR="${UNIVIEW_VAR_DIR:-$(mktemp -d)}"
export SECRET_KEY="test-only-secret-key-not-for-production-use-0123456789"
# A Fernet key that spells "test-only-key-not-for-production": never use it for real credentials.
export FIELD_ENCRYPTION_KEY="dGVzdC1vbmx5LWtleS1ub3QtZm9yLXByb2R1Y3Rpb24="

$BIN/ruff check .
$BIN/lint-imports --no-cache  # the dependency rule between rooms (.importlinter, docs/architecture.md)
$BIN/python manage.py makemigrations --check --dry-run -v0  # every model change has its migration

export DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/uniview}"
export CELERY_BROKER_URL="${TEST_BROKER_URL:-redis://127.0.0.1:6379/15}"
# The whole suite runs on PYTEST_WORKERS processes (pytest-xdist; each has its own test database,
# Redis database and var directory, see tests/settings.py), by default one more than the cores (at
# most 8): much of a test's time is spent waiting on workers, PostgreSQL and sockets. Named files
# run in one process unless PYTEST_WORKERS is set; PYTEST_WORKERS=0 runs everything in one process.
workers=()
if [[ " $* " != *" -n"* && " $* " != *" --numprocesses"* && " $* " != *" -p no:xdist "* ]]; then
  files=0; for arg in "$@"; do [[ "$arg" == tests/* || "$arg" == *.py* ]] && files=1; done
  if [[ -n "${PYTEST_WORKERS:-}" ]]; then workers=(-n "$PYTEST_WORKERS")
  elif ((files == 0)); then cores=$(nproc); workers=(-n $((cores < 8 ? cores + 1 : 8))); fi
fi
# An idle worker takes tests from a busy one's queue; the long tests start first (tests/conftest.py).
((${#workers[@]})) && workers+=(--dist worksteal)
$BIN/python -m pytest "${workers[@]}" "$@"
