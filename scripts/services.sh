#!/usr/bin/env bash
# Make sure the local services the integration tests use are running; start them if this machine can.
# Locally it never fails: a test that needs a missing service skips with a reason. Under CI=true a
# missing service fails here, at once, rather than after the whole suite.
set -u
host=127.0.0.1
if command -v pg_isready >/dev/null 2>&1; then
  if ! pg_isready -q -h "$host" -p 5432; then
    if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
      echo "services: starting PostgreSQL" >&2
      pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start 2>&1 | sed 's/^/services: /' >&2 || true
      for _ in $(seq 1 20); do pg_isready -q -h "$host" -p 5432 && break; sleep 0.5; done
    fi
  fi
  if pg_isready -q -h "$host" -p 5432; then echo "services: PostgreSQL up at $host:5432" >&2
  else echo "services: PostgreSQL is not running; its tests will skip (and fail under CI=true)" >&2; missing=1; fi
else
  echo "services: no PostgreSQL client tools here; PostgreSQL tests will skip (and fail under CI=true)" >&2
  missing=1
fi
if [ "${missing:-0}" = 1 ] && [ "${CI:-}" = true ]; then
  echo "services: CI=true and a required service is missing" >&2
  exit 1
fi
exit 0
