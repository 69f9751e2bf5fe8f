#!/usr/bin/env bash
# Containers that run (a step of scripts/test.sh): builds the five images from the repository's Dockerfiles
# (the development identity provider and the four of Vigil) with podman, brings docker-compose.yml up with
# podman-compose, waits until every container is healthy, runs the whole demo (`vigil demo`) in a container of
# its own inside the compose network, with tokens from the provider container (the issuer http://provider:5190/,
# as docker-compose.yml says), checks that stopping Redis makes the services unready (the provider, which has
# no Redis, stays ready) and starting it makes them ready again, and brings everything down, leaving no
# container, network, volume or pod behind (images stay, cached). Prints each image's size and the phases'
# times, then "N passed, N failed"; exit code 1 when anything failed.
#
# Needs root, the Release build (for the CLI) and Debian's packages; deploy/podman/setup.sh installs and
# configures podman and makes the base images (no registry is reachable here). The image builds run under
# `nice -n 10`: on a shared machine the other builds keep moving. Whatever way the step ends (a failed check,
# an error, Ctrl-C, SIGTERM), its compose project is taken down and its temporary files removed.
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
passed=0; failed=0
ok() { echo "check passed: $1"; passed=$((passed + 1)); }
ko() { echo "check FAILED: $1"; failed=$((failed + 1)); }
finish() { echo "containers: $passed passed, $failed failed"; echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }
now() { date +%s; }
t0=$(now)

# --- Cleanup on every way out. PROJECT and COMPOSE are set once the compose project exists.
PROJECT=""; COMPOSE=""; TMP=$(mktemp -d /tmp/vigil-containers.XXXXXX)
compose() { podman-compose -p "$PROJECT" -f "$COMPOSE" "$@"; }
ours() { # ours KIND: the ids of this project's containers, pods, volumes or networks
  case $1 in
    containers) podman ps -aq --filter "label=io.podman.compose.project=$PROJECT" ;;
    pods) podman pod ls -q --filter "name=^pod_${PROJECT}\$" ;;
    volumes) podman volume ls -q --filter "label=io.podman.compose.project=$PROJECT" ;;
    networks) podman network ls -q --filter "label=io.podman.compose.project=$PROJECT" ;;
  esac 2>/dev/null
}
cleanup() {
  trap - EXIT INT TERM HUP
  if [ -n "$PROJECT" ]; then
    [ -n "$COMPOSE" ] && [ -f "$COMPOSE" ] && compose down -v -t 5 >/dev/null 2>&1
    # Whatever podman-compose left behind, by its project label or pod name.
    ours containers | xargs -r podman rm -f -t 0 >/dev/null 2>&1
    ours pods | xargs -r podman pod rm -f >/dev/null 2>&1
    ours volumes | xargs -r podman volume rm -f >/dev/null 2>&1
    ours networks | xargs -r podman network rm -f >/dev/null 2>&1
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'echo "containers: interrupted"; exit 130' INT TERM HUP

CLI="$ROOT/clients/Vigil.Cli/bin/Release/net10.0/vigil.dll"
[ -f "$CLI" ] || { ko "the CLI is built ($CLI)"; finish; }

# --- podman, its configuration, the base images.
if bash deploy/podman/setup.sh >"$TMP/setup.log" 2>&1; then
  ok "podman installed and configured, base images made ($(( $(now) - t0 )) s)"
else
  ko "podman setup"; tail -30 "$TMP/setup.log" | sed 's/^/  | /'; finish
fi
t_setup=$(now)

# --- The five images, from the repository's Dockerfiles. Restore uses this machine's package folder and CA bundle.
mkdir -p "$HOME/.nuget/packages"
IMAGES="provider identity session certificate gateway"
declare -A dockerfiles=([provider]=dev/Vigil.DevProvider/Dockerfile [identity]=services/identity/Dockerfile [session]=services/session/Dockerfile [certificate]=services/certificate/Dockerfile [gateway]=gateway/Dockerfile)
for name in $IMAGES; do
  start=$(now)
  if nice -n 10 podman build --pull=never --format docker -f "${dockerfiles[$name]}" -t "vigil/$name:dev" \
       -v "$HOME/.nuget/packages:/root/.nuget/packages" \
       -v /etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/ca-certificates.crt:ro \
       . >"$TMP/build-$name.log" 2>&1; then
    cached=$(grep -c -- '--> Using cache' "$TMP/build-$name.log"); steps=$(grep -cE '(^|] )STEP [0-9]+/' "$TMP/build-$name.log")
    ok "image vigil/$name:dev built from ${dockerfiles[$name]} ($(( $(now) - start )) s, $cached of $steps steps from the layer cache)"
  else
    ko "image vigil/$name:dev from ${dockerfiles[$name]}"; tail -30 "$TMP/build-$name.log" | sed 's/^/  | /'
  fi
done
[ "$failed" -eq 0 ] || finish
for name in $IMAGES; do
  size=$(podman image inspect --format '{{.Size}}' "vigil/$name:dev" 2>/dev/null || echo 0)
  echo "image vigil/$name:dev: $((size / 1000000)) MB"
done
t_images=$(now)

# --- The images are what they claim: linux-x64 only, non-root.
for name in identity provider; do
  mnt=$(podman image mount "vigil/$name:dev" 2>/dev/null)
  if [ -n "$mnt" ]; then
    rids=$(ls "$mnt/app/runtimes" 2>/dev/null | tr '\n' ' ')
    if [ -z "$rids" ] || [ "$rids" = "linux-x64 " ]; then ok "$name carries linux-x64 natives only (runtimes/: ${rids:-none})"; else ko "$name carries natives for: $rids"; fi
    podman image unmount "vigil/$name:dev" >/dev/null 2>&1
  else
    ko "$name image could not be mounted to read its runtimes/"
  fi
done
for name in $IMAGES; do
  user=$(podman image inspect --format '{{.Config.User}}' "vigil/$name:dev")
  if [ -n "$user" ] && [ "${user%%:*}" != 0 ] && [ "${user%%:*}" != root ]; then ok "vigil/$name:dev runs as $user"; else ko "vigil/$name:dev runs as '$user'"; fi
done

# --- Compose up, on free loopback ports, under a project name of our own.
PROJECT=vigil-ci-$$
free_port() { local p; for _ in $(seq 1 50); do p=$(( (RANDOM % 20000) + 30000 )); (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }; done; }
GRPC=$(free_port); WEB=$(free_port); ISSUER=$(free_port)
COMPOSE="$TMP/docker-compose.yml"
# The compose file as it is, but for the published ports (free ones, on loopback only) and its build context
# (the copy lives elsewhere; the images are built above anyway). Nothing here uses the published ports: the
# demo runs inside the compose network, where the names resolve (the host's /etc/hosts is left alone).
sed -e "s|\"5100:5100\"|\"127.0.0.1:$GRPC:5100\"|" -e "s|\"5180:5180\"|\"127.0.0.1:$WEB:5180\"|" \
    -e "s|\"5190:5190\"|\"127.0.0.1:$ISSUER:5190\"|" -e "s|context: \\.$|context: $ROOT|" docker-compose.yml > "$COMPOSE"
grep -q "127.0.0.1:$ISSUER:5190" "$COMPOSE" || { ko "the provider's published port 5190:5190 is in docker-compose.yml"; finish; }
if compose up -d >"$TMP/up.log" 2>&1; then ok "podman-compose up"; else ko "podman-compose up"; tail -30 "$TMP/up.log" | sed 's/^/  | /'; fi
container() { podman ps -aq --filter "label=io.podman.compose.project=$PROJECT" --filter "label=com.docker.compose.service=$1" | head -1; }
healthy() { local c; c=$(container "$1"); [ -n "$c" ] && podman healthcheck run "$c" >/dev/null 2>&1; }
wait_for() { # wait_for SECONDS CONDITION...: polls every second
  local limit=$1; shift
  for _ in $(seq 1 "$limit"); do "$@" && return 0; sleep 1; done
  return 1
}
SERVICES="redis rabbitmq provider identity session certificate gateway"
all_healthy() { for s in $SERVICES; do healthy "$s" || return 1; done; }
explain() { for s in $SERVICES; do healthy "$s" && echo "  $s: healthy" || { echo "  $s: NOT healthy; its last lines:"; podman logs --tail 15 "$(container "$s")" 2>&1 | sed 's/^/  | /'; }; done; }
t_up=$(now)
if wait_for 240 all_healthy; then
  ok "every container healthy ($(( $(now) - t_up )) s after up)"
else
  ko "every container healthy within 240 s"; explain; finish
fi
t_healthy=$(now)

# --- Read-only root file systems and a non-root user, as they run.
for s in $IMAGES; do
  c=$(container "$s")
  ro=$(podman inspect --format '{{.HostConfig.ReadonlyRootfs}}' "$c" 2>/dev/null)
  uid=$(podman top "$c" user 2>/dev/null | sed -n 2p | tr -d ' ')
  if [ "$ro" = true ] && [ -n "$uid" ] && [ "$uid" != root ] && [ "$uid" != 0 ]; then ok "$s runs read-only as user $uid"; else ko "$s: read-only '$ro', user '$uid'"; fi
done

# --- The whole demo, inside the compose network (podman-compose 1.0.3 names it <project>_default): the CLI's
# Release build in the ASP.NET Core runtime image, as a non-root user on a read-only root, reaching the gateway
# and the provider by their compose names, with the provider's tokens (the demo user's password grant; the
# services' client credentials between them). The issuer is http://provider:5190/ as for the services.
NETWORK="${PROJECT}_default"
if podman network exists "$NETWORK"; then ok "compose network $NETWORK exists"; else ko "compose network $NETWORK exists (networks: $(podman network ls --format '{{.Name}}' | tr '\n' ' '))"; fi
if timeout 300 podman run --rm --pull=never --network "$NETWORK" --user 1654:1654 --read-only --tmpfs /tmp -e HOME=/tmp \
     -v "$(dirname "$CLI"):/cli:ro" mcr.microsoft.com/dotnet/aspnet:10.0 \
     dotnet /cli/vigil.dll demo --gateway http://gateway:5100 --dashboard-url http://gateway:5180 --provider http://provider:5190/ \
     >"$TMP/demo.log" 2>&1; then
  ok "vigil demo in the compose network with the provider's tokens ($(grep -c . "$TMP/demo.log") lines)"
else
  ko "vigil demo in the compose network with the provider's tokens"; tail -40 "$TMP/demo.log" | sed 's/^/  | /'; explain
fi
# The pages' sign-in: the gateway sends a browser to the provider's authorization endpoint under the one issuer
# (it read the provider's discovery document inside the network), as the client vigil-gateway with PKCE.
location=$(curl -s -o /dev/null -w '%{redirect_url}' "http://127.0.0.1:$WEB/signin" 2>/dev/null)
case "$location" in
  http://provider:5190/connect/authorize\?*client_id=vigil-gateway*code_challenge=*) ok "the gateway's /signin sends the browser to http://provider:5190/connect/authorize (client vigil-gateway, PKCE)" ;;
  *) ko "the gateway's /signin sends the browser to the provider (it answered: '${location:-no redirect}')" ;;
esac
t_demo=$(now)

# --- Redis stopped: the services turn unready, and the gateway with them (it can route to none); started: ready again.
unready() { ! healthy "$1"; }
services_unready() { unready identity && unready session && unready certificate; }
podman stop -t 5 "$(container redis)" >/dev/null 2>&1
if wait_for 60 services_unready; then ok "Redis stopped: identity, session and certificate unready"; else ko "Redis stopped: the services stay ready"; fi
if wait_for 60 unready gateway; then ok "Redis stopped: the gateway unready (no service to route to)"; else ko "Redis stopped: the gateway stays ready"; fi
if healthy provider; then ok "Redis stopped: the provider stays ready (it has no Redis)"; else ko "Redis stopped: the provider turned unready"; fi
podman start "$(container redis)" >/dev/null 2>&1
if wait_for 120 all_healthy; then ok "Redis started again: every container ready again"; else ko "Redis started again: not every container ready within 120 s"; explain; fi
t_redis=$(now)

# --- Down, leaving nothing behind: podman-compose 1.0.3's down removes containers, the pod and (-v) volumes, not the
# network it made, so that goes by its label.
compose down -v -t 30 >"$TMP/down.log" 2>&1
ours networks | xargs -r podman network rm >/dev/null 2>&1
left=$(for kind in containers pods volumes networks; do ours "$kind"; done | wc -l)
if [ "$left" -eq 0 ]; then ok "taken down: no container, pod, volume or network of the project left"; else ko "taken down: $left objects of the project left"; fi
echo "containers: times: setup $((t_setup - t0)) s, images $((t_images - t_setup)) s, up to healthy $((t_healthy - t_images)) s, demo $((t_demo - t_healthy)) s, Redis stop/start $((t_redis - t_demo)) s, total $(( $(now) - t0 )) s"
finish
