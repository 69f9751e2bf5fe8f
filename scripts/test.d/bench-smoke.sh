#!/usr/bin/env bash
# Benchmark smoke (a step of scripts/test.sh): runs the harness at its smoke size (20 learners through the real
# identity, session and certificate processes and the gateway, every ceiling and scenario for one short round,
# a 5 s exam day, a board burst) to prove it works end to end. It asserts that everything ran and counted sane,
# non-zero things; it asserts NO timing. Needs the Release build and VIGIL_REDIS / VIGIL_RABBITMQ (vhost "bench").
# Last line: "N passed, N failed"; exit code 1 when anything failed. Leaves no process behind.
set -uo pipefail
cd "$(dirname "$0")/../.."
DLL=bench/Vigil.Bench/bin/Release/net10.0/Vigil.Bench.dll
if [ ! -f "$DLL" ]; then
  echo "bench-smoke: $DLL is missing (dotnet build -c Release first)"
  echo "0 passed, 1 failed"; exit 1
fi
if [ -z "${VIGIL_REDIS:-}" ] || [ -z "${VIGIL_RABBITMQ:-}" ]; then
  echo "bench-smoke: VIGIL_REDIS and VIGIL_RABBITMQ must be set (source scripts/deps.sh && vigil_deps_start)"
  echo "0 passed, 1 failed"; exit 1
fi
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
out=$(mktemp -d /tmp/vigil-bench-smoke.XXXXXX)
# Its own process group: on a hang, the whole group (services, gateways, workers) is killed.
setsid dotnet "$DLL" run --smoke --out "$out/smoke.json" > "$out/run.log" 2>&1 &
pid=$!
limit=${VIGIL_BENCH_SMOKE_TIMEOUT:-420}
for _ in $(seq 1 "$limit"); do
  kill -0 "$pid" 2>/dev/null || break
  sleep 1
done
if kill -0 "$pid" 2>/dev/null; then
  echo "bench-smoke: the run did not finish within ${limit} s; killed"
  kill -KILL -- "-$pid" 2>/dev/null
fi
wait "$pid" 2>/dev/null
rc=$?
kill -KILL -- "-$pid" 2>/dev/null
echo "bench-smoke: harness exit code $rc; its log:"
sed 's/^/  | /' "$out/run.log" | tail -80
dotnet "$DLL" check-smoke "$out/smoke.json" 20
status=$?
rm -rf "$out"
exit $status
