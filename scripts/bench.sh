#!/usr/bin/env bash
# `make bench`: the benchmarks, against PostgreSQL on localhost (database uniview_bench).
# Each step is one command; append new benchmarks to STEPS. Each runs in its own
# process so that its memory figure is its own.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin

scripts/services.sh

export DATABASE_URL="${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/uniview_bench}"
export CELERY_BROKER_URL="${BENCH_BROKER_URL:-redis://127.0.0.1:6379/14}"
export UNIVIEW_VAR_DIR="${UNIVIEW_VAR_DIR:-$(mktemp -d)}"
export SECRET_KEY="${SECRET_KEY:-bench-only-secret-key-not-for-production-use-0123456789}"
# A Fernet key that spells "test-only-key-not-for-production": never use it for real credentials.
export FIELD_ENCRYPTION_KEY="${FIELD_ENCRYPTION_KEY:-dGVzdC1vbmx5LWtleS1ub3QtZm9yLXByb2R1Y3Rpb24=}"

db_name="${DATABASE_URL##*/}"
if ! psql "${DATABASE_URL%/*}/postgres" -tAc "SELECT 1 FROM pg_database WHERE datname = '$db_name'" | grep -q 1; then
  echo "Creating database $db_name" >&2
  psql "${DATABASE_URL%/*}/postgres" -qc "CREATE DATABASE \"$db_name\""
fi
$BIN/python manage.py migrate --noinput -v0

STEPS=(
  "$BIN/python -m bench.conditional_alarms generate"
  "$BIN/python -m bench.conditional_alarms evaluate"
  "$BIN/python -m bench.conditional_alarms bad-day"
  "$BIN/python -m bench.raising"
  "$BIN/python -m bench.dispatch"
  "$BIN/python -m bench.dispatch fanout"
  "$BIN/python -m bench.retention"
  "$BIN/python -m bench.due generate"
  "$BIN/python -m bench.due all"
  "$BIN/python -m bench.compliance"
)
for step in "${STEPS[@]}"; do
  echo "==> $step" >&2
  $step
done

# Issue 7: ingestion rate, alert list and dashboard latency, a wrk load run -> bench/RESULTS_perf.md (database uniview_perf)
bench/perf.sh
