#!/usr/bin/env bash
# The whole loop as a new user sees it, end to end, on a fresh clone of the committed repository:
#
#   npm install && npm start -- --simulate-devices 20
#
# then, only through the CLI (npx granit-iot … --json, token from .data/operator-token):
#   1. 20 simulated devices, each with an Active AWS binding;
#   2. a desired firmware set on every device's shadow;
#   3. every simulated device completed the resulting job (commands status: Succeeded);
#   4. 5 devices decommissioned;
#   5. the emulator's inventory (GET <emulator>/_emulator/inventory) matches the database: one thing,
#      one ACTIVE certificate and one secret per live binding (15), none for the 5 decommissioned.
#
# Prints each check; exits non-zero on the first mismatch. Waits are generous polls (never a failure
# on speed alone). Runs from .ci/run after the fresh-clone check, and alone for debugging:
#   bash scripts/e2e-new-user.sh [--keep]      (--keep leaves the clone and logs in /tmp)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
keep=""
[ "${1:-}" = "--keep" ] && keep=yes
devices=20
decommission=5
firmware="2.0.0"
work="$(mktemp -d /tmp/granit-e2e-XXXXXX)"
app="$work/app"
host_pid=""
cleanup() {
  if [ -n "$host_pid" ]; then kill -TERM -- "-$host_pid" 2>/dev/null || true; fi
  if [ -n "$keep" ]; then echo "kept: $work (start.log, JSON snapshots)"; else rm -rf "$work"; fi
}
trap cleanup EXIT
# A new user has no AWS and no PostgreSQL configured: the host must pick the in-process emulator.
unset DATABASE_URL GRANIT_CONFIG GRANIT_URL GRANIT_TOKEN AWS_REGION AWS_DEFAULT_REGION AWS_PROFILE \
  AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_ENDPOINT_URL_IOT \
  AWS_ENDPOINT_URL_IOT_DATA_PLANE AWS_ENDPOINT_URL_IOT_JOBS_DATA_PLANE AWS_ENDPOINT_URL_SECRETS_MANAGER

started=$(date +%s)
say() { printf '[%4ss] %s\n' "$(( $(date +%s) - started ))" "$*"; }
ok() { say "✔ $*"; }
die() {
  say "✖ $*"
  if [ -f "$work/start.log" ]; then
    echo "--- last lines of npm start:"
    grep -v '"msg":"request completed"\|"msg":"incoming request"' "$work/start.log" | tail -n 30 | cut -c1-400
  fi
  exit 1
}
# Polls `check` (a shell function returning 0 when done) every `pause` seconds for up to `limit`.
wait_until() {
  local what="$1" limit="$2" pause="$3" check="$4" deadline=$(( $(date +%s) + $2 ))
  until "$check"; do
    [ "$(date +%s)" -lt "$deadline" ] || die "$what: not reached within ${limit} s"
    sleep "$pause"
  done
}

say "cloning $repo into $app"
git clone -q "$repo" "$app"
port=$(( 20000 + RANDOM % 20000 ))
emulator_port=$(( port + 1 ))

say "npm install && npm start -- --simulate-devices $devices (host port $port, emulator port $emulator_port)"
# setsid: the host runs in its own process group, so one signal stops npm and node together.
setsid bash -c "cd '$app' && export Host__Port='$port' IoT__Aws__Emulator__Port='$emulator_port' \
  && npm install --no-audit --no-fund && npm start -- --simulate-devices $devices" >"$work/start.log" 2>&1 &
host_pid=$!
url="http://127.0.0.1:${port}"
ready() {
  kill -0 "$host_pid" 2>/dev/null || die "npm start exited"
  curl -fsS "$url/health/ready" >/dev/null 2>&1
}
wait_until "the host answering /health/ready" 900 2 ready
ok "npm install && npm start: $url/health/ready answers 200"

# The host's own output starts after npm's "> node apps/host/src/main.ts" header.
first_line="$(awk 'found && NF { print; exit } /^> node apps\/host\/src\/main.ts/ { found = 1 }' "$work/start.log")"
case "$first_line" in
  "AWS:"*"in-process emulator at http://"*"(no AWS account used"*) ok "its first line says so: $first_line" ;;
  *) die "the first line of npm start does not name the in-process emulator: '$first_line'" ;;
esac
emulator="$(printf '%s\n' "$first_line" | sed -E 's|.*(http://[0-9.:]+).*|\1|')"
grep -q "^Simulation: .*$devices devices" "$work/start.log" || die "the banner does not announce the $devices simulated devices"
ok "the banner announces the simulation: $(grep '^Simulation:' "$work/start.log" | sed 's/^Simulation: *//')"

cd "$app"
[ -s .data/operator-token ] || die ".data/operator-token was not generated"
cli() { npx --no-install granit-iot "$@" --url "$url"; }
# JSON is read with the project's own Node.js (node_modules/.bin/node, installed by npm install).
node_js() { "$app/node_modules/.bin/node" -e "$@"; }

# 1. 20 devices, each with an Active binding.
list_devices() { cli devices list --all --json >"$work/devices.json"; }
twenty_devices() {
  list_devices || return 1
  [ "$(node_js 'const d=JSON.parse(require("fs").readFileSync(process.argv[1]));console.log(d.items.filter(x=>/^SIM-\d{4}$/.test(x.serialNumber)).length)' "$work/devices.json" 2>/dev/null || true)" = "$devices" ]
}
wait_until "$devices simulated devices listed" 300 3 twenty_devices
mapfile -t ids < <(node_js 'const d=JSON.parse(require("fs").readFileSync(process.argv[1]));for(const x of d.items.filter(x=>/^SIM-\d{4}$/.test(x.serialNumber)).sort((a,b)=>a.serialNumber.localeCompare(b.serialNumber)))console.log(x.id)' "$work/devices.json")
ok "devices list --all: ${#ids[@]} devices SIM-0001…SIM-$(printf '%04d' "$devices")"

all_bindings_active() {
  local id status
  for id in "${ids[@]}"; do
    status="$(cli bindings show "$id" --json 2>/dev/null | node_js 'let s="";process.stdin.on("data",c=>s+=c).on("end",()=>{try{console.log(JSON.parse(s).status)}catch{console.log("none")}})')"
    [ "$status" = "Active" ] || { say "  waiting: binding of $id is $status"; return 1; }
  done
}
wait_until "every binding Active" 600 5 all_bindings_active
ok "bindings show: all $devices bindings Active"
all_devices_active() {
  list_devices || return 1
  [ "$(node_js 'const d=JSON.parse(require("fs").readFileSync(process.argv[1]));console.log(d.items.filter(x=>/^SIM-/.test(x.serialNumber)&&x.status==="Active").length)' "$work/devices.json")" = "$devices" ]
}
wait_until "every simulated device Active" 300 3 all_devices_active
ok "devices list: all $devices devices Active (activated by the simulator once provisioned)"

# 2. A desired firmware on every device.
for id in "${ids[@]}"; do
  cli shadow set-desired "$id" --set "firmware=$firmware" --json >"$work/desired.json" \
    || die "shadow set-desired $id failed: $(cat "$work/desired.json")"
done
ok "shadow set-desired --set firmware=$firmware on all $devices devices"

# 3. Every simulated device completed the job the delta became.
all_jobs_succeeded() {
  local id status
  for id in "${ids[@]}"; do
    status="$(cli commands status "$id" --json 2>/dev/null | node_js 'let s="";process.stdin.on("data",c=>s+=c).on("end",()=>{try{const c=JSON.parse(s).items.find(i=>i.operation==="shadow.applyDesiredState"&&i.parameters.firmware===process.argv[1]);console.log(c?c.status:"no-command")}catch{console.log("error")}})' "$firmware")"
    [ "$status" = "Succeeded" ] || { say "  waiting: the firmware command of $id is $status"; return 1; }
  done
}
wait_until "every firmware job Succeeded" 900 10 all_jobs_succeeded
ok "commands status: all $devices shadow.applyDesiredState jobs Succeeded"
curl -fsS "$emulator/_emulator/inventory" >"$work/inventory.json" || die "cannot read $emulator/_emulator/inventory"
in_sync="$(node_js 'const i=JSON.parse(require("fs").readFileSync(process.argv[1]));const s=i.shadows.filter(x=>/-SIM-\d{4}$/.test(x.thingName)&&x.shadowName==="");console.log(s.filter(x=>x.state.reported?.firmware===process.argv[2]&&Object.keys(x.state.delta??{}).length===0).length)' "$work/inventory.json" "$firmware")"
[ "$in_sync" = "$devices" ] || die "only $in_sync of $devices shadows report firmware $firmware with no delta left"
ok "the emulator's shadows: all $devices report firmware $firmware, no delta left"
list_devices
upgraded="$(node_js 'const d=JSON.parse(require("fs").readFileSync(process.argv[1]));console.log(d.items.filter(x=>/^SIM-/.test(x.serialNumber)&&x.firmware===process.argv[2]).length)' "$work/devices.json" "$firmware")"
[ "$upgraded" = "$devices" ] || die "devices list shows firmware $firmware on $upgraded of $devices devices"
ok "devices list: all $devices devices on firmware $firmware"

# 4. Decommission 5 (from Active).
gone=("${ids[@]:0:$decommission}")
for id in "${gone[@]}"; do
  cli devices decommission "$id" --json >/dev/null || die "devices decommission $id failed"
done
ok "devices decommission: SIM-0001…SIM-$(printf '%04d' "$decommission")"
torn_down() {
  local id
  for id in "${gone[@]}"; do
    if cli bindings show "$id" --json >/dev/null 2>&1; then say "  waiting: $id still has a binding"; return 1; fi
  done
  curl -fsS "$emulator/_emulator/inventory" >"$work/inventory.json" || return 1
  [ "$(node_js 'const i=JSON.parse(require("fs").readFileSync(process.argv[1]));console.log(i.things.filter(t=>/-SIM-\d{4}$/.test(t.name)).length)' "$work/inventory.json")" = "$(( devices - decommission ))" ]
}
wait_until "the decommissioned devices torn down in AWS" 600 5 torn_down
ok "bindings show: the $decommission decommissioned devices have no binding any more"

# 5. The emulator's inventory against the database (through the CLI).
list_devices
mkdir -p "$work/bindings"
for id in "${ids[@]:$decommission}"; do
  cli bindings show "$id" --json >"$work/bindings/$id.json" || die "bindings show $id failed"
done
cat >"$work/compare.cjs" <<'JS'
const fs = require("fs");
const [devicesFile, bindingsDir, inventoryFile, expectedLive, expectedGone] = process.argv.slice(2);
const devices = JSON.parse(fs.readFileSync(devicesFile)).items.filter((d) => /^SIM-\d{4}$/.test(d.serialNumber));
const bindings = fs.readdirSync(bindingsDir).map((f) => JSON.parse(fs.readFileSync(`${bindingsDir}/${f}`, "utf8")));
const inv = JSON.parse(fs.readFileSync(inventoryFile));
const ours = (name) => /-SIM-\d{4}$/.test(name);
const things = inv.things.filter((t) => ours(t.name));
const certificates = inv.certificates.filter((c) => c.things.some(ours) || bindings.some((b) => b.certificateArn === c.arn));
const secrets = inv.secrets.filter((s) => !s.deletedDate && /-SIM-\d{4}\//.test(s.name));
const failures = [];
const check = (ok, text) => { console.log(`${ok ? "  ✔" : "  ✖"} ${text}`); if (!ok) failures.push(text); };
const same = (a, b) => a.length === b.length && [...a].sort().every((x, i) => x === [...b].sort()[i]);
const live = devices.filter((d) => d.status === "Active");
const gone = devices.filter((d) => d.status === "Decommissioned");
check(live.length === Number(expectedLive) && gone.length === Number(expectedGone),
  `database: ${live.length} Active and ${gone.length} Decommissioned simulated devices (expected ${expectedLive} and ${expectedGone})`);
check(bindings.length === live.length && bindings.every((b) => b.status === "Active"), `database: ${bindings.length} Active bindings, one per live device`);
check(same(things.map((t) => t.name), bindings.map((b) => b.thingName)), `AWS things (${things.length}) = the bindings' thing names`);
check(same(things.map((t) => t.arn), bindings.map((b) => b.thingArn)), "AWS thing ARNs = the bindings' thing ARNs");
check(same(certificates.map((c) => c.arn), bindings.map((b) => b.certificateArn)), `AWS certificates (${certificates.length}) = the bindings' certificates`);
check(certificates.every((c) => c.status === "ACTIVE" && c.things.length === 1 && c.policies.length === 1),
  "every certificate is ACTIVE, attached to its one thing, with the device policy");
check(certificates.every((c) => bindings.some((b) => b.certificateArn === c.arn && c.things[0] === b.thingName)),
  "every certificate is attached to the thing of the binding that records it");
check(same(secrets.map((s) => s.arn), bindings.map((b) => b.certificateSecretArn)), `AWS secrets (${secrets.length}) = the bindings' secrets`);
const goneNames = gone.map((d) => d.serialNumber);
check(!things.some((t) => goneNames.some((s) => t.name.endsWith(`-${s}`))) &&
  !inv.secrets.some((s) => !s.deletedDate && goneNames.some((n) => s.name.includes(`-${n}/`))) &&
  !inv.certificates.some((c) => c.things.some((t) => goneNames.some((n) => t.endsWith(`-${n}`)))),
  `nothing left in AWS for the ${gone.length} decommissioned devices (${goneNames.join(", ")})`);
process.exit(failures.length === 0 ? 0 : 1);
JS
"$app/node_modules/.bin/node" "$work/compare.cjs" "$work/devices.json" "$work/bindings" "$work/inventory.json" "$(( devices - decommission ))" "$decommission" \
  || die "the emulator's inventory does not match the database"
ok "the emulator's inventory matches the database: $(( devices - decommission )) things, certificates and secrets, none for the $decommission decommissioned"

kill -TERM -- "-$host_pid" 2>/dev/null || true
# npm and node both get the signal; node may still be shutting down when npm is gone.
stopped() { grep -q '"msg":"host stopped"' "$work/start.log" && ! kill -0 -- "-$host_pid" 2>/dev/null; }
wait_until "the host stopping gracefully on SIGTERM" 120 1 stopped
wait "$host_pid" 2>/dev/null || true
host_pid=""
ok "SIGTERM: the host stopped gracefully (HTTP, services, bus, database, then the emulator)"
say "new-user end to end: all checks passed"
