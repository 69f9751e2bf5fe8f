#!/usr/bin/env bash
# Containers that run (a step of scripts/test.sh): builds the four images from the repository's Dockerfiles
# with podman, brings docker-compose.yml up with podman-compose, waits until every container is healthy, runs
# the whole demo (`vigil demo`) through the gateway container, checks that stopping Redis makes the services
# unready and starting it makes them ready again, and brings everything down, leaving no container, network,
# volume or pod behind (images stay, cached). Prints each image's size and the phases' times, then
# "N passed, N failed"; exit code 1 when anything failed.
#
# Needs root, the Release build (for the CLI) and Debian's packages; deploy/podman/setup.sh installs and
# configures podman and makes the base images (no registry is reachable here).
# NOT YET ON BY DEFAULT: it runs with VIGIL_CONTAINERS=1 until a whole run has passed on the CI machine
# (its first run here was still building images when it was integrated); otherwise it counts as skipped.
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
passed=0; failed=0; skipped=0
ok() { echo "check passed: $1"; passed=$((passed + 1)); }
ko() { echo "check FAILED: $1"; failed=$((failed + 1)); }
finish() { echo "containers: $passed passed, $failed failed, $skipped skipped"; echo "$passed passed, $failed failed, $skipped skipped"; [ "$failed" -eq 0 ]; exit $?; }
now() { date +%s; }
t0=$(now)
if [ "${VIGIL_CONTAINERS:-0}" != 1 ]; then echo "containers: skipped (set VIGIL_CONTAINERS=1 to build and run the images)"; skipped=1; finish; fi
CLI="$ROOT/clients/Vigil.Cli/bin/Release/net10.0/vigil.dll"
[ -f "$CLI" ] || { ko "the CLI is built ($CLI)"; finish; }

# --- podman, its configuration, the base images.
if bash deploy/podman/setup.sh; then ok "podman installed and configured, base images made ($(( $(now) - t0 )) s)"; else ko "podman setup"; finish; fi
t_setup=$(now)

# --- The four images, from the repository's Dockerfiles. Restore uses this machine's package folder and CA bundle.
mkdir -p "$HOME/.nuget/packages"
declare -A dockerfiles=([identity]=services/identity/Dockerfile [session]=services/session/Dockerfile [certificate]=services/certificate/Dockerfile [gateway]=gateway/Dockerfile)
build_log=$(mktemp /tmp/vigil-containers-build.XXXXXX)
for name in identity session certificate gateway; do
  start=$(now)
  if podman build --pull=never --format docker -f "${dockerfiles[$name]}" -t "vigil/$name:dev" \
       -v "$HOME/.nuget/packages:/root/.nuget/packages" \
       -v /etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/ca-certificates.crt:ro \
       . >"$build_log" 2>&1; then
    ok "image vigil/$name:dev built from ${dockerfiles[$name]} ($(( $(now) - start )) s)"
  else
    ko "image vigil/$name:dev from ${dockerfiles[$name]}"; tail -30 "$build_log" | sed 's/^/  | /'
  fi
done
rm -f "$build_log"
for name in identity session certificate gateway; do
  size=$(podman image inspect --format '{{.Size}}' "vigil/$name:dev" 2>/dev/null || echo 0)
  echo "image vigil/$name:dev: $((size / 1000000)) MB"
done
[ "$failed" -eq 0 ] || finish
t_images=$(now)

# --- The images are what they claim: linux-x64 only, non-root, no shell needed for the probe.
mnt=$(podman image mount vigil/identity:dev 2>/dev/null)
if [ -n "$mnt" ]; then
  rids=$(ls "$mnt/app/runtimes" 2>/dev/null | tr '\n' ' ')
  if [ -z "$rids" ] || [ "$rids" = "linux-x64 " ]; then ok "identity carries linux-x64 natives only (runtimes/: ${rids:-none})"; else ko "identity carries natives for: $rids"; fi
  podman image unmount vigil/identity:dev >/dev/null 2>&1
fi
for name in identity session certificate gateway; do
  user=$(podman image inspect --format '{{.Config.User}}' "vigil/$name:dev")
  [ "${user%%:*}" != 0 ] && [ -n "$user" ] && ok "vigil/$name:dev runs as $user" || ko "vigil/$name:dev runs as '$user'"
done

# --- Compose up, on free ports, under a project name of our own.
PROJECT=vigil-ci-$$
free_port() { local p; for _ in $(seq 1 50); do p=$(( (RANDOM % 20000) + 30000 )); (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }; done; }
GRPC=$(free_port); WEB=$(free_port)
COMPOSE=$(mktemp /tmp/vigil-compose.XXXXXX.yml)
sed -e "s|\"5100:5100\"|\"127.0.0.1:$GRPC:5100\"|" -e "s|\"5180:5180\"|\"127.0.0.1:$WEB:5180\"|" docker-compose.yml > "$COMPOSE"
compose() { podman-compose -p "$PROJECT" -f "$COMPOSE" "$@"; }
cleanup() {
  compose down -v >/dev/null 2>&1
  # Whatever podman-compose left: our project's containers, pods, networks, volumes (by its label or name).
  podman ps -aq --filter "label=io.podman.compose.project=$PROJECT" | xargs -r podman rm -f >/dev/null 2>&1
  podman pod ls -q --filter "name=pod_$PROJECT" | xargs -r podman pod rm -f >/dev/null 2>&1
  podman volume ls -q --filter "label=io.podman.compose.project=$PROJECT" | xargs -r podman volume rm -f >/dev/null 2>&1
  podman network ls -q --filter "label=io.podman.compose.project=$PROJECT" | xargs -r podman network rm -f >/dev/null 2>&1
  rm -f "$COMPOSE"
}
trap cleanup EXIT
up_log=$(mktemp /tmp/vigil-compose-up.XXXXXX)
if compose up -d >"$up_log" 2>&1; then ok "podman-compose up"; else ko "podman-compose up"; tail -30 "$up_log" | sed 's/^/  | /'; fi
rm -f "$up_log"
container() { podman ps -aq --filter "label=io.podman.compose.project=$PROJECT" --filter "label=io.podman.compose.service=$1" | head -1; }
healthy() { local c; c=$(container "$1"); [ -n "$c" ] && podman healthcheck run "$c" >/dev/null 2>&1; }
wait_for() { # wait_for SECONDS CONDITION... : polls every second
  local limit=$1; shift
  for _ in $(seq 1 "$limit"); do "$@" && return 0; sleep 1; done
  return 1
}
all_healthy() { for s in redis rabbitmq identity session certificate gateway; do healthy "$s" || return 1; done; }
t_up=$(now)
if wait_for 240 all_healthy; then
  ok "every container healthy ($(( $(now) - t_up )) s after up)"
else
  for s in redis rabbitmq identity session certificate gateway; do healthy "$s" && echo "  $s: healthy" || { echo "  $s: NOT healthy; its last lines:"; podman logs --tail 15 "$(container "$s")" 2>&1 | sed 's/^/  | /'; }; done
  ko "every container healthy within 240 s"; finish
fi
t_healthy=$(now)

# --- The whole demo through the gateway container.
demo_log=$(mktemp /tmp/vigil-demo.XXXXXX)
if timeout 300 dotnet "$CLI" demo --gateway "http://127.0.0.1:$GRPC" --dashboard-url "http://127.0.0.1:$WEB" >"$demo_log" 2>&1; then
  ok "vigil demo through the gateway container ($(grep -c . "$demo_log") lines)"
else
  ko "vigil demo through the gateway container"; tail -40 "$demo_log" | sed 's/^/  | /'
fi
rm -f "$demo_log"
t_demo=$(now)

# --- Redis stopped: the services turn unready (and the gateway, which then routes nowhere); started: ready again.
unready() { ! healthy "$1"; }
services_unready() { unready identity && unready session && unready certificate; }
podman stop -t 5 "$(container redis)" >/dev/null
if wait_for 60 services_unready; then ok "Redis stopped: identity, session and certificate unready"; else ko "Redis stopped: the services stay ready"; fi
if wait_for 60 unready gateway; then ok "Redis stopped: the gateway unready (no service to route to)"; else ko "Redis stopped: the gateway stays ready"; fi
podman start "$(container redis)" >/dev/null
if wait_for 120 all_healthy; then ok "Redis started again: every container ready again"; else ko "Redis started again: not every container ready within 120 s"; fi
t_redis=$(now)

# --- Down, leaving nothing behind.
compose down -v >/dev/null 2>&1
left=$( { podman ps -aq --filter "label=io.podman.compose.project=$PROJECT"; podman volume ls -q --filter "label=io.podman.compose.project=$PROJECT"; \
          podman network ls -q --filter "label=io.podman.compose.project=$PROJECT"; podman pod ls -q --filter "name=pod_$PROJECT"; } | wc -l)
if [ "$left" -eq 0 ]; then ok "podman-compose down -v leaves no container, volume, network or pod"; else ko "podman-compose down -v left $left objects"; fi
echo "containers: times: setup $((t_setup - t0)) s, images $((t_images - t_setup)) s, up to healthy $((t_healthy - t_images)) s, demo $((t_demo - t_healthy)) s, Redis stop/start $((t_redis - t_demo)) s, total $(( $(now) - t0 )) s"
finish
