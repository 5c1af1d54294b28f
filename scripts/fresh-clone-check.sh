#!/usr/bin/env bash
# Clones the committed repository into a temporary folder and runs the two command lines of the
# README's first screen exactly as a new user would, each on its own fresh clone:
#   npm install && npm start   → the host answers /health/ready, prints URL, docs URL and a token
#                                (no DATABASE_URL: embedded PGlite)
#   npm install && npm test    → the whole suite passes. With DATABASE_URL set (CI: .ci/run exports
#                                its fresh database) the suite runs on PostgreSQL and PGlite, and this
#                                is CI's one run of the README's test command; a new user without
#                                DATABASE_URL runs the same PGlite targets, which is shown too on a
#                                store test file (PostgreSQL skipped with its notice, PGlite passes).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d /tmp/granit-fresh-XXXXXX)"
host_pid=""
cleanup() {
  if [ -n "$host_pid" ]; then kill -TERM -- "-$host_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
test_database_url="${DATABASE_URL:-}"
unset DATABASE_URL

git clone -q "$repo" "$work/start"
git clone -q "$repo" "$work/test"
port=$(( 20000 + RANDOM % 20000 ))

echo "--- npm install && npm start (port ${port})"
# setsid: the host runs in its own process group, so one signal stops npm and node together.
setsid bash -c "cd '$work/start' && export Host__Port='$port' && npm install --no-audit --no-fund && npm start" \
  >"$work/start.log" 2>&1 &
host_pid=$!
ready=""
for _ in $(seq 1 240); do
  if curl -fsS "http://127.0.0.1:${port}/health/ready" >/dev/null 2>&1; then ready=yes; break; fi
  sleep 1
done
cat "$work/start.log" | tail -n 20
[ -n "$ready" ] || { echo "host never became ready"; exit 1; }
grep -q "http://127.0.0.1:${port}" "$work/start.log" || { echo "start output lacks the URL"; exit 1; }
grep -qi "docs" "$work/start.log" || { echo "start output lacks the API docs URL"; exit 1; }
grep -qi "token" "$work/start.log" || { echo "start output lacks the operator token"; exit 1; }
token="$(cat "$work/start/.data/operator-token")"
curl -fsS -H "Authorization: Bearer ${token}" "http://127.0.0.1:${port}/api/iot/devices" >/dev/null
echo "✔ npm install && npm start: ready, URL, docs and token printed, API answers with the token"
kill -TERM -- "-$host_pid" 2>/dev/null || true
wait "$host_pid" 2>/dev/null || true
host_pid=""

echo "--- npm install && npm test${test_database_url:+ (DATABASE_URL set: PostgreSQL and PGlite)}"
if ! ( cd "$work/test" && npm install --no-audit --no-fund >/dev/null 2>&1 &&
  if [ -n "$test_database_url" ]; then DATABASE_URL="$test_database_url" npm test; else npm test; fi
) >"$work/test.log" 2>&1; then
  grep -E "^✖|^# |Error" "$work/test.log" | head -n 60
  echo "✖ npm install && npm test failed in a fresh clone"
  exit 1
fi
tail -n 3 "$work/test.log"
echo "✔ npm install && npm test"

if [ -n "$test_database_url" ]; then
  echo "--- without DATABASE_URL, as a new user: PGlite only"
  ( cd "$work/test" && npm test -- packages/iot-postgres/test/device-store.test.ts ) >"$work/pglite.log" 2>&1 ||
    { tail -n 40 "$work/pglite.log"; echo "✖ npm test without DATABASE_URL failed"; exit 1; }
  grep -q "DATABASE_URL" "$work/pglite.log" || { echo "✖ no notice that PostgreSQL was skipped"; exit 1; }
  grep -q "on postgres.*# " "$work/pglite.log" || { tail -n 20 "$work/pglite.log"; echo "✖ the PostgreSQL target was not skipped"; exit 1; }
  tail -n 1 "$work/pglite.log"
  echo "✔ npm test without DATABASE_URL runs PGlite and skips PostgreSQL with its notice"
fi
