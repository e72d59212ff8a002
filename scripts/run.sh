#!/usr/bin/env bash
# Embedded default: SQLite + file-system broker under var/, a worker with beat, and the web server.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${VENV:-.venv}/bin"  # make passes VENV
PORT="${PORT:-8000}"
HOST="${HOST:-127.0.0.1}"
export PORTAL_URL="${PORTAL_URL:-http://$HOST:$PORT}"
# The demo appliances listen on loopback; demo/settings.py lets the outbound guard reach them.
export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-demo.settings}"

# Pango for WeasyPrint (the monthly report's PDF, R18.3), from Debian's packages if missing.
if ! /sbin/ldconfig -p 2>/dev/null | grep -q libpangoft2-1.0; then
  echo "Installing Pango from Debian's packages" >&2
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 >/dev/null
fi

$BIN/python manage.py migrate --noinput -v0
mkdir -p var/log
# The demo's Unitrends appliances (a fake appliance server on loopback, issue 5).
export DEMO_APPLIANCE_PORT="${DEMO_APPLIANCE_PORT:-8790}"
$BIN/python -m demo.appliance_server >var/log/appliances.log 2>&1 &
APPLIANCES=$!
trap 'kill $APPLIANCES 2>/dev/null' EXIT INT TERM
sleep 0.5
LOGINS="$($BIN/python manage.py seed_demo --if-empty)"

mkdir -p var/log
$BIN/celery -A uniview worker -B --concurrency 2 --loglevel INFO \
  --schedule var/celerybeat-schedule >var/log/worker.log 2>&1 &
WORKER=$!
trap 'kill $WORKER $APPLIANCES 2>/dev/null; wait $WORKER $APPLIANCES 2>/dev/null' EXIT INT TERM

echo
echo "uniview is starting on $PORTAL_URL/  (worker and beat log: var/log/worker.log)"
echo "$LOGINS"
echo
$BIN/python manage.py runserver --noreload "$HOST:$PORT"
