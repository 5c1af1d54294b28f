#!/usr/bin/env bash
# Clones the committed repository into a temporary folder and runs the two command lines of the
# README's first screen exactly as a new user would, each on its own fresh clone:
#   npm install && npm start   → the host answers /health/ready, prints URL, docs URL and a token
#   npm install && npm test    → the suite passes (PGlite only: a new user has no DATABASE_URL)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d /tmp/granit-fresh-XXXXXX)"
host_pid=""
cleanup() {
  if [ -n "$host_pid" ]; then kill -TERM -- "-$host_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
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

echo "--- npm install && npm test"
if ! ( cd "$work/test" && npm install --no-audit --no-fund >/dev/null 2>&1 && npm test ) >"$work/test.log" 2>&1; then
  grep -E "^✖|^# |Error" "$work/test.log" | head -n 60
  echo "✖ npm install && npm test failed in a fresh clone"
  exit 1
fi
tail -n 3 "$work/test.log"
echo "✔ npm install && npm test"
