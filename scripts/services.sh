#!/usr/bin/env bash
# Make sure PostgreSQL and Redis answer on localhost; start them if they are installed but down.
# Never skips: when they cannot be had, it says so and fails.
set -uo pipefail

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }

if ! pg_up; then
  echo "PostgreSQL is down; starting it" >&2
  if command -v pg_ctlcluster >/dev/null && ls /etc/postgresql >/dev/null 2>&1; then
    for v in $(ls /etc/postgresql); do pg_ctlcluster --skip-systemctl-redirect "$v" main start 2>&1 || true; done
  fi
  for _ in $(seq 1 30); do pg_up && break; sleep 1; done
fi
if ! redis_up; then
  echo "Redis is down; starting it" >&2
  if command -v redis-server >/dev/null; then
    mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log 2>&1 || true
  fi
  for _ in $(seq 1 15); do redis_up && break; sleep 1; done
fi

missing=()
pg_up || missing+=("PostgreSQL on 127.0.0.1:5432")
redis_up || missing+=("Redis on 127.0.0.1:6379")
if ((${#missing[@]})); then
  echo "FAILED: the test suite needs ${missing[*]} and could not start it." >&2
  [ -n "${CI:-}" ] && echo "CI is set: refusing to skip." >&2
  exit 1
fi
