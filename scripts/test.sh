#!/usr/bin/env bash
# Runs every test of Vigil on this machine: installs what is missing (Redis, RabbitMQ, the npm tools),
# starts a real Redis and RabbitMQ on loopback, runs the proto checks (buf lint, buf breaking), builds
# with warnings as errors, runs the extra steps of scripts/test.d (among them the cluster pass: the services' store and journey
# tests again on a real Redis Cluster being resharded) and every test project, stops the servers, and ends with one line:
#   N passed, N failed, N skipped
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

passed=0; failed=0; skipped=0
finish() {
  echo "$passed passed, $failed failed, $skipped skipped"
  [ "$failed" -eq 0 ] && exit 0 || exit 1
}
check() { # check NAME COMMAND...: a non-dotnet check counted as one test
  local name=$1; shift
  if "$@"; then echo "check passed: $name"; passed=$((passed + 1)); else echo "check FAILED: $name"; failed=$((failed + 1)); fi
}

# --- Tools: node packages (buf, schema validators, browser driver), from package-lock.json.
if ! (cd tools && npm ci --no-audit --no-fund --loglevel=error >/dev/null); then
  echo "could not install the npm tools"; failed=$((failed + 1)); finish
fi
BUF="$ROOT/tools/node_modules/.bin/buf"

# --- Proto checks.
check "buf lint" bash -c "cd protos && '$BUF' lint"
check "buf breaking against protos/baseline/vigil.binpb" bash -c "cd protos && '$BUF' breaking --against baseline/vigil.binpb"

# --- Build, warnings as errors.
if ! dotnet build Vigil.slnx -c Release -warnaserror -nologo -clp:ErrorsOnly -v:q; then
  echo "build FAILED"; failed=$((failed + 1)); finish
fi

# --- Real dependencies, stopped by their pids on exit whatever happens.
source scripts/deps.sh
if ! vigil_deps_start; then
  echo "could not start Redis and RabbitMQ"; failed=$((failed + 1)); finish
fi

# Extra test steps (deploy checks, browser tests…) live in scripts/test.d/*.sh; each prints
# "N passed, N failed[, N skipped]" as its last line and is counted.
for extra in scripts/test.d/*.sh; do
  [ -e "$extra" ] || continue
  out=$(bash "$extra" 2>&1); rc=$?
  echo "$out"
  line=$(echo "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -1)
  if [ -n "$line" ]; then
    p=$(echo "$line" | sed -E 's/^([0-9]+) passed.*/\1/'); f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
    s=$(echo "$line" | grep -oE '[0-9]+ skipped' | grep -oE '[0-9]+' || echo 0)
    passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + ${s:-0}))
    [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && failed=$((failed + 1))
  else
    echo "step $extra printed no totals (exit $rc)"; [ "$rc" -eq 0 ] && passed=$((passed + 1)) || failed=$((failed + 1))
  fi
done

# --- Every test project, results as TRX.
RESULTS=$(mktemp -d /tmp/vigil-test-results.XXXXXX)
dotnet test Vigil.slnx -c Release --no-build -nologo \
  --logger "trx" --logger "console;verbosity=normal" --results-directory "$RESULTS" \
  --blame-hang-timeout 10m -- RunConfiguration.TreatNoTestsAsError=false
test_rc=$?

count=0
for trx in "$RESULTS"/*.trx; do
  [ -e "$trx" ] || continue
  count=$((count + 1))
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  get() { echo "$counters" | grep -oE " $1=\"[0-9]+\"" | grep -oE '[0-9]+' || echo 0; }
  total=$(get total); p=$(get passed); f=$(get failed); e=$(get error); t=$(get timeout); a=$(get aborted)
  passed=$((passed + p)); failed=$((failed + f + e + t + a))
  skipped=$((skipped + total - p - f - e - t - a))
done
if [ "$test_rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
  echo "dotnet test exited $test_rc with no failed test counted (a crashed or hung test host)"; failed=$((failed + 1))
fi
echo "test projects with results: $count"
rm -rf "$RESULTS"
finish
