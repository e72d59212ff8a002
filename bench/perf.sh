#!/usr/bin/env bash
# Issue 7's figures (bench/RESULTS_perf.md) against their own database, uniview_perf.
# Steps: generate (once), ingest, api, dashboard, load; pass step names to run only some.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
export DATABASE_URL="${PERF_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/uniview_perf}"
export CELERY_BROKER_URL="${PERF_BROKER_URL:-redis://127.0.0.1:6379/13}"
export UNIVIEW_VAR_DIR="${UNIVIEW_VAR_DIR:-$(mktemp -d)}"
export SECRET_KEY="${SECRET_KEY:-bench-only-secret-key-not-for-production-use-0123456789}"
# A Fernet key that spells "test-only-key-not-for-production": never use it for real credentials.
export FIELD_ENCRYPTION_KEY="${FIELD_ENCRYPTION_KEY:-dGVzdC1vbmx5LWtleS1ub3QtZm9yLXByb2R1Y3Rpb24=}"
export AXES_ENABLED=0 LOG_LEVEL=WARNING

db_name="${DATABASE_URL##*/}"
if ! psql "${DATABASE_URL%/*}/postgres" -tAc "SELECT 1 FROM pg_database WHERE datname = '$db_name'" | grep -q 1; then
  psql "${DATABASE_URL%/*}/postgres" -qc "CREATE DATABASE \"$db_name\""
fi
$BIN/python manage.py migrate --noinput -v0
steps=("$@")
((${#steps[@]})) || steps=(generate ingest api dashboard load)
for step in "${steps[@]}"; do
  echo "==> bench.perf_api $step" >&2
  $BIN/python -m bench.perf_api "$step"
done
