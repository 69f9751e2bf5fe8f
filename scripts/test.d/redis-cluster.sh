#!/usr/bin/env bash
# The cluster pass (a step of scripts/test.sh): the suites' integration tests that exercise every store and script
# of the three services (docs/reliability.md, "The cluster pass", says which and why) run again against a real Redis
# Cluster (3 primaries, 3 replicas, scripts/deps.sh) whose slots move between primaries while they run
# (redis-cli --cluster reshard, 500 slots a round, round after round), every write acknowledged by a replica as in
# production (Redis__AcknowledgeReplicas=1 reaches the hosts and processes they start).
# Needs the Release build and VIGIL_RABBITMQ (source scripts/deps.sh && vigil_deps_start). Alone:
#   bash -c 'source scripts/deps.sh && vigil_deps_start && bash scripts/test.d/redis-cluster.sh'
# Last line: "N passed, N failed[, N skipped]"; exit code 1 when anything failed. Stops its cluster by pid.
set -uo pipefail
cd "$(dirname "$0")/../.."
source scripts/deps.sh

passed=0; failed=0; skipped=0
finish() {
  [ -n "${VIGIL_REDIS_CLUSTER_DIR:-}" ] && { vigil_redis_topology_stop "$VIGIL_REDIS_CLUSTER_DIR"; rm -rf "$VIGIL_REDIS_CLUSTER_DIR"; }
  [ -n "${RESULTS:-}" ] && rm -rf "$RESULTS"
  echo "$passed passed, $failed failed, $skipped skipped"
  [ "$failed" -eq 0 ]; exit $?
}
check() { # check NAME COMMAND...: counted as one test
  local name=$1; shift
  if "$@"; then echo "check passed: $name"; passed=$((passed + 1)); else echo "check FAILED: $name"; failed=$((failed + 1)); fi
}
if [ -z "${VIGIL_RABBITMQ:-}" ]; then
  echo "redis-cluster: VIGIL_RABBITMQ must be set (source scripts/deps.sh && vigil_deps_start)"; failed=1; finish
fi

SUITES=(
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

RESULTS=$(mktemp -d /tmp/vigil-cluster-results.XXXXXX)
if ! vigil_redis_cluster_start "$(mktemp -d /tmp/vigil-redis-cluster.XXXXXX)"; then
  echo "redis-cluster: could not start the Redis Cluster"; failed=1; finish
fi
reshard_log="$VIGIL_REDIS_CLUSTER_DIR/reshard.log"; stop_reshard="$VIGIL_REDIS_CLUSTER_DIR/stop-reshard"
reshard_rounds "$reshard_log" "$stop_reshard" &
reshard_pid=$!
started=$(date +%s)
test_rc=0
for suite in "${SUITES[@]}"; do
  VIGIL_REDIS="$VIGIL_REDIS_CLUSTER" Redis__AcknowledgeReplicas=1 dotnet test "${suite%%|*}" -c Release --no-build -nologo \
    --filter "${suite#*|}" --logger "trx" --logger "console;verbosity=minimal" --results-directory "$RESULTS" \
    --blame-hang-timeout 10m -- RunConfiguration.TreatNoTestsAsError=true || test_rc=1
done
touch "$stop_reshard"; wait "$reshard_pid"
rounds=$(grep -c '^round [0-9]*:' "$reshard_log"); failed_rounds=$(grep -c 'FAILED' "$reshard_log")
moved=$(grep -c '^Moving slot' "$reshard_log")
echo "cluster pass: $(( $(date +%s) - started )) s; resharding while the suites ran: $rounds rounds, $moved slots moved, $failed_rounds rounds failed"
check "the cluster was resharded while the suites ran ($moved slots moved)" test "$moved" -gt 0 -a "$failed_rounds" -eq 0
check "the cluster is whole after the pass (redis-cli --cluster check)" bash -o pipefail -c "redis-cli --cluster check '${VIGIL_REDIS_CLUSTER%%,*}' | tail -1"

for trx in "$RESULTS"/*.trx; do
  [ -e "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  get() { echo "$counters" | grep -oE " $1=\"[0-9]+\"" | grep -oE '[0-9]+' || echo 0; }
  total=$(get total); p=$(get passed); f=$(get failed); e=$(get error); t=$(get timeout); a=$(get aborted)
  passed=$((passed + p)); failed=$((failed + f + e + t + a))
  skipped=$((skipped + total - p - f - e - t - a))
done
if [ "$test_rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
  echo "redis-cluster: dotnet test exited $test_rc with no failed test counted (a crashed or hung test host)"; failed=$((failed + 1))
fi
finish
