#!/usr/bin/env bash
# Vigil's benchmark in one command: builds the services, the gateway and the harness (Release), starts a real
# Redis (appendfsync always) and RabbitMQ with scripts/deps.sh unless VIGIL_REDIS/VIGIL_RABBITMQ are already
# set, runs the harness (bench/Vigil.Bench), prints the table and writes bench/results/latest.json. Everything it
# started is stopped on exit.
#
#   bench/run.sh                        # default: 2,000 learners for 60 s, 3 shuffled rounds of ceilings and scenarios
#   bench/run.sh --smoke                # tiny: proves the harness works
#   bench/run.sh --learners 20000 --duration 600 --client-processes 3 --gateways 2
#   bench/run.sh --help
set -uo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
DLL=bench/Vigil.Bench/bin/Release/net10.0/Vigil.Bench.dll

if [ -z "${VIGIL_BENCH_NO_BUILD:-}" ]; then
  # The bench project builds the services and the gateway too (project references without their assemblies).
  dotnet build bench/Vigil.Bench -c Release -nologo -clp:ErrorsOnly -v:q || { echo "bench: build failed" >&2; exit 1; }
fi
case " $* " in *" --help "*) exec dotnet "$DLL" run --help ;; esac

if [ -z "${VIGIL_REDIS:-}" ] || [ -z "${VIGIL_RABBITMQ:-}" ]; then
  # shellcheck source=../scripts/deps.sh
  source scripts/deps.sh
  vigil_deps_start || { echo "bench: could not start Redis and RabbitMQ" >&2; exit 1; }
fi

# The open-file limit is hard here (20,000 per process): use all of it; the harness spreads load over processes.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# A process group of its own, so that nothing it started can outlive it.
setsid dotnet "$DLL" run "$@" &
pid=$!
trap 'kill -TERM -- -$pid 2>/dev/null; sleep 1; kill -KILL -- -$pid 2>/dev/null' INT TERM
wait $pid
rc=$?
kill -KILL -- -$pid 2>/dev/null
exit $rc
