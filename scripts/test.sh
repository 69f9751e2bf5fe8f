#!/usr/bin/env bash
# Runs every test of Vigil on this machine: installs what is missing (Redis, RabbitMQ, the npm tools),
# starts a real Redis and RabbitMQ on loopback, runs the proto checks (buf lint, buf breaking), builds
# with warnings as errors, runs every test project, then the services' store and journey tests again on a
# real Redis Cluster being resharded (the cluster pass), stops the servers, and ends with one line:
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

# --- The cluster pass: the suites' integration tests that exercise every store and script of the three services
# (docs/reliability.md says which and why) again, against a real Redis Cluster (3 primaries, 3 replicas) whose slots
# move between primaries while they run (redis-cli --cluster reshard, one round after another), every write
# acknowledged by a replica as in production (Redis__AcknowledgeReplicas=1 reaches the services they start).
CLUSTER_SUITES=(
  "services/session/Vigil.Session.Tests|FullyQualifiedName~Vigil.Session.Tests.Storage.|FullyQualifiedName~Vigil.Session.Tests.Sessions.StreamExam|FullyQualifiedName~Vigil.Session.Tests.Sessions.StartSession|FullyQualifiedName~Vigil.Session.Tests.Sessions.SubmitFinalCheck|FullyQualifiedName~Vigil.Session.Tests.Review.|FullyQualifiedName~Vigil.Session.Tests.Outbox.|FullyQualifiedName~Vigil.Session.Tests.Monitoring."
  "services/identity/Vigil.Identity.Tests|FullyQualifiedName~Vigil.Identity.Tests.Storage.|FullyQualifiedName~Vigil.Identity.Tests.Registration.|FullyQualifiedName~Vigil.Identity.Tests.Verification.|FullyQualifiedName~Vigil.Identity.Tests.Erasure."
  "services/certificate/Vigil.Certificate.Tests|FullyQualifiedName~Vigil.Certificate.Tests.Storage.|FullyQualifiedName~Vigil.Certificate.Tests.Results.|FullyQualifiedName~Vigil.Certificate.Tests.Dashboard."
)
reshard_rounds() { # reshard_rounds LOG STOPFILE: moves 500 slots from one primary to the next, round after round
  local entry=${VIGIL_REDIS_CLUSTER%%,*} round=0 ids
  sleep 10 # the suites' hosts start and write first
  while [ $round -lt 60 ] && [ ! -e "$2" ]; do
    mapfile -t ids < <(redis-cli -h "${entry%:*}" -p "${entry#*:}" cluster nodes | awk '$3 ~ /master/ && $3 !~ /fail/ {print $1}' | sort)
    [ ${#ids[@]} -ge 2 ] || break
    echo "round $round: ${ids[round % ${#ids[@]}]} -> ${ids[(round + 1) % ${#ids[@]}]}" >> "$1"
    redis-cli --cluster reshard "$entry" --cluster-from "${ids[round % ${#ids[@]}]}" --cluster-to "${ids[(round + 1) % ${#ids[@]}]}" \
      --cluster-slots 500 --cluster-yes >> "$1" 2>&1 || echo "round $round FAILED" >> "$1"
    round=$((round + 1))
    sleep 2
  done
}
if vigil_redis_cluster_start; then
  reshard_log="$VIGIL_REDIS_CLUSTER_DIR/reshard.log"; stop_reshard="$VIGIL_REDIS_CLUSTER_DIR/stop-reshard"
  reshard_rounds "$reshard_log" "$stop_reshard" &
  reshard_pid=$!
  started=$(date +%s)
  for suite in "${CLUSTER_SUITES[@]}"; do
    project=${suite%%|*}
    VIGIL_REDIS="$VIGIL_REDIS_CLUSTER" Redis__AcknowledgeReplicas=1 dotnet test "$project" -c Release --no-build -nologo --filter "${suite#*|}" \
      --logger "trx;LogFilePrefix=cluster" --logger "console;verbosity=minimal" --results-directory "$RESULTS" \
      --blame-hang-timeout 10m -- RunConfiguration.TreatNoTestsAsError=true || test_rc=1
  done
  touch "$stop_reshard"; wait "$reshard_pid"
  rounds=$(grep -c '^round [0-9]*:' "$reshard_log"); failed_rounds=$(grep -c 'FAILED' "$reshard_log")
  moved=$(grep -c '^Moving slot' "$reshard_log")
  echo "cluster pass: $(( $(date +%s) - started )) s; resharding while the suites ran: $rounds rounds, $moved slots moved, $failed_rounds rounds failed"
  check "the cluster was resharded while the suites ran ($moved slots moved)" test "$moved" -gt 0 -a "$failed_rounds" -eq 0
  check "the cluster is whole after the pass (redis-cli --cluster check)" bash -o pipefail -c "redis-cli --cluster check '${VIGIL_REDIS_CLUSTER%%,*}' | tail -1"
else
  echo "could not start the Redis Cluster"; failed=$((failed + 1))
fi

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
