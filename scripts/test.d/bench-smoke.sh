#!/usr/bin/env bash
# Benchmark smoke (a step of scripts/test.sh): runs the harness at its smoke size (20 learners through the real
# identity, session and certificate processes and the gateway, every ceiling and scenario for one short round,
# a 5 s exam day, a board burst), then session variants, the ramp and a reconnect storm at that size, to prove it works end to end. It asserts that everything ran and counted sane,
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
passed=0
failed=0

# Runs the harness with "$@" (its own process group: on a hang, the whole group is killed), then the check
# command given after "--", and adds its "N passed, N failed".
smoke_run() {
  local name=$1; shift
  local args=()
  while [ "$1" != "--" ]; do args+=("$1"); shift; done
  shift
  setsid dotnet "$DLL" run "${args[@]}" > "$out/$name.log" 2>&1 &
  local pid=$!
  local limit=${VIGIL_BENCH_SMOKE_TIMEOUT:-420}
  for _ in $(seq 1 "$limit"); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 1
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "bench-smoke: the $name run did not finish within ${limit} s; killed"
    kill -KILL -- "-$pid" 2>/dev/null
  fi
  wait "$pid" 2>/dev/null
  local rc=$?
  kill -KILL -- "-$pid" 2>/dev/null
  echo "bench-smoke: $name run, harness exit code $rc; its log:"
  sed 's/^/  | /' "$out/$name.log" | tail -80
  dotnet "$DLL" "$@" > "$out/$name.check" 2>&1
  cat "$out/$name.check"
  local line
  line=$(tail -1 "$out/$name.check")
  if [[ $line =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed ]]; then
    passed=$((passed + BASH_REMATCH[1])); failed=$((failed + BASH_REMATCH[2]))
  else
    failed=$((failed + 1))
  fi
}

# Every ceiling and scenario, the exam day and the board burst.
smoke_run smoke --smoke --out "$out/smoke.json" -- check-smoke "$out/smoke.json" 20
# Two session variants (a fresh process each), the ramp (three sizes) and the reconnect storm: the session process
# SIGKILLed 3 s into a 20 s exam day; every learner must resume with no acknowledged save lost.
smoke_run storm --smoke --only exam-day --session-variant default: --session-variant workstation-gc:DOTNET_gcServer=0 --variant-hold 20 --storm-variants workstation-gc \
  --ramp 5,10,20 --ramp-hold 3 --duration 20 --storm-at 3 --out "$out/storm.json" -- check-storm "$out/storm.json" 20 3 2
rm -rf "$out"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
