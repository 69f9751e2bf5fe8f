#!/usr/bin/env bash
# Runs Vigil on this machine and takes one learner through a whole exam:
#   scripts/run.sh          build, start Redis, RabbitMQ, the development identity provider, the three services
#                           and the gateway on loopback, run `vigil demo` through the gateway with tokens from
#                           the provider, print how to sign in to the dashboard, then wait:
#                           Ctrl-C (or SIGTERM) stops every process this script started, by pid.
#   scripts/run.sh --once   the same, but stop everything and exit after the demo (exit code = the demo's).
# Ports (loopback): gateway 5100 (gRPC) and 5180 (pages, /health, /metrics); identity 5101/5201,
# session 5102/5202, certificate 5103/5203; the identity provider 5190 (dev/Vigil.DevProvider). Logs go to a temporary folder printed at start.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
ONCE=0
for a in "$@"; do
  case "$a" in
    --once) ONCE=1 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown option $a" >&2; exit 2 ;;
  esac
done
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
CONF=${VIGIL_CONFIGURATION:-Release}

if ! command -v dotnet >/dev/null 2>&1; then
  echo "run.sh: the .NET SDK (10.0) is needed: https://dot.net/install (or apt-get install dotnet-sdk-10.0)" >&2
  exit 1
fi
for tool in curl; do
  command -v "$tool" >/dev/null 2>&1 || { export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq "$tool" >/dev/null; }
done

PROJECTS=(dev/Vigil.DevProvider services/identity/Vigil.Identity services/session/Vigil.Session services/certificate/Vigil.Certificate gateway/Vigil.Gateway clients/Vigil.Cli)
echo "==> building (${CONF})"
# One build of the solution (one restore, one graph; a no-op after scripts/test.sh); when some other project
# of the solution does not build, build just what runs here.
if ! dotnet build Vigil.slnx -c "$CONF" -nologo -v:q -clp:"ErrorsOnly;NoSummary" >/dev/null 2>&1; then
  for p in "${PROJECTS[@]}"; do
    dotnet build "$p" -c "$CONF" -nologo -v:q -clp:"ErrorsOnly;NoSummary" || { echo "run.sh: build of $p failed" >&2; exit 1; }
  done
fi

RUN_DIR=$(mktemp -d /tmp/vigil-run.XXXXXX)
PIDS=()
STOPPING=0
stop_all() {
  [ "$STOPPING" = 1 ] && return
  STOPPING=1
  echo
  echo "==> stopping"
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for _ in $(seq 1 100); do
    local alive=0
    for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null; done
  wait "${PIDS[@]}" 2>/dev/null
  vigil_deps_stop 2>/dev/null
  echo "    stopped (logs kept in $RUN_DIR)"
}
on_signal() { stop_all; exit 130; }

echo "==> starting Redis and RabbitMQ"
# shellcheck source=scripts/deps.sh
source scripts/deps.sh
vigil_deps_start || { echo "run.sh: could not start Redis and RabbitMQ" >&2; exit 1; }
# deps.sh set its own EXIT trap; this one stops the services first, then the dependencies.
trap stop_all EXIT
trap on_signal INT TERM

IDENTITY=http://127.0.0.1:5101; SESSION=http://127.0.0.1:5102; CERTIFICATE=http://127.0.0.1:5103
PROVIDER=http://127.0.0.1:5190/
# Every service and the gateway trust the development provider (its discovery document and keys): no shared key.
AUTH=("Auth__Authority=$PROVIDER")
COMMON=(
  ASPNETCORE_ENVIRONMENT=Development DOTNET_ENVIRONMENT=Development
  "Redis__Configuration=$VIGIL_REDIS" "RabbitMq__Uri=$VIGIL_RABBITMQ"
  "Services__Identity=$IDENTITY" "Services__Session=$SESSION" "Services__Certificate=$CERTIFICATE"
)

start() { # start NAME PROJECT GRPC_PORT HTTP_PORT [ENV...]
  local name=$1 project=$2 g=$3 h=$4; shift 4
  local dll="$ROOT/$project/bin/$CONF/net10.0/$(basename "$project").dll"
  for port in "$g" "$h"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "run.sh: port $port is already in use (another Vigil running?)" >&2; exit 1
    fi
  done
  ( cd "$(dirname "$dll")" && exec env "${COMMON[@]}" \
      "Kestrel__Endpoints__Grpc__Url=http://127.0.0.1:$g" "Kestrel__Endpoints__Grpc__Protocols=Http2" \
      "Kestrel__Endpoints__Management__Url=http://127.0.0.1:$h" "Kestrel__Endpoints__Management__Protocols=Http1" \
      "$@" dotnet "$dll" ) > "$RUN_DIR/$name.log" 2>&1 &
  PIDS+=($!)
  echo "    $name: gRPC 127.0.0.1:$g, HTTP 127.0.0.1:$h (pid $!, log $RUN_DIR/$name.log)"
}

wait_ready() { # wait_ready NAME URL
  local name=$1 url=$2
  for _ in $(seq 1 600); do
    curl -fsS -o /dev/null "$url" 2>/dev/null && return 0
    sleep 0.2
  done
  echo "run.sh: $name is not ready ($url); its log:" >&2; tail -30 "$RUN_DIR/$name.log" >&2
  return 1
}

echo "==> starting the identity provider, the services and the gateway (logs in $RUN_DIR)"
# The development provider (demo users, clients; Development only): its pages and token endpoint on 5190.
start provider dev/Vigil.DevProvider 5191 5190 "DevProvider__Issuer=$PROVIDER"
wait_ready provider http://127.0.0.1:5190/health/ready || exit 1
# Each service gets its tokens for the others by client credentials from the provider.
start identity services/identity/Vigil.Identity 5101 5201 "${AUTH[@]}" Auth__ClientId=vigil-identity Auth__ClientSecret=dev-identity-secret
start session services/session/Vigil.Session 5102 5202 "${AUTH[@]}" Auth__ClientId=vigil-session Auth__ClientSecret=dev-session-secret
start certificate services/certificate/Vigil.Certificate 5103 5203 "${AUTH[@]}" Auth__ClientId=vigil-certificate Auth__ClientSecret=dev-certificate-secret
# The gateway's own defaults (appsettings.json, "ReverseProxy") are these addresses; probes every second here.
# Its pages sign people in at the provider (client vigil-gateway, redirect URI http://127.0.0.1:5180/signin-oidc).
start gateway gateway/Vigil.Gateway 5100 5180 "${AUTH[@]}" \
  Gateway__SignIn__ClientId=vigil-gateway Gateway__SignIn__ClientSecret=dev-gateway-secret \
  ReverseProxy__Clusters__identity__HealthCheck__Active__Interval=00:00:01 \
  ReverseProxy__Clusters__session__HealthCheck__Active__Interval=00:00:01 \
  ReverseProxy__Clusters__certificate__HealthCheck__Active__Interval=00:00:01
wait_ready identity http://127.0.0.1:5201/health/ready || exit 1
wait_ready session http://127.0.0.1:5202/health/ready || exit 1
wait_ready certificate http://127.0.0.1:5203/health/ready || exit 1
wait_ready gateway http://127.0.0.1:5180/health/ready || exit 1
sleep 2 # one round of the gateway's active health checks

echo "==> one learner through a whole exam, through the gateway"
echo
dotnet "$ROOT/clients/Vigil.Cli/bin/$CONF/net10.0/vigil.dll" demo --gateway http://127.0.0.1:5100 --dashboard-url http://127.0.0.1:5180 --provider "$PROVIDER"
rc=$?
echo
if [ "$rc" -ne 0 ]; then
  echo "run.sh: the demo failed (exit $rc); the services' logs are in $RUN_DIR" >&2
fi
if [ "$ONCE" = 1 ]; then
  exit "$rc"
fi
echo "Vigil is running: gateway gRPC http://127.0.0.1:5100, pages http://127.0.0.1:5180/dashboard and /verify,"
echo "identity provider $PROVIDER (development only)."
echo "Sign in to the dashboard: open http://127.0.0.1:5180/dashboard, \"Sign in\", user ada (the demo's learner;"
echo "also grace, alan), password vigil-demo. bea (exam board of course-demo) and sam (its staff) have the same password."
echo "Try: dotnet clients/Vigil.Cli/bin/$CONF/net10.0/vigil.dll --help      Press Ctrl-C to stop everything."
while :; do
  for pid in "${PIDS[@]}"; do
    if ! kill -0 "$pid" 2>/dev/null; then echo "run.sh: process $pid exited; stopping" >&2; exit 1; fi
  done
  sleep 1 &
  wait $! 2>/dev/null
done
