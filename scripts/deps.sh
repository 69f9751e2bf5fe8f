#!/usr/bin/env bash
# Real Redis and RabbitMQ for tests and local runs.
#
#   source scripts/deps.sh && vigil_deps_start   # installs when missing, starts both, exports their addresses
#   vigil_deps_stop                               # stops both by their own process ids (also done by an EXIT trap)
#
# Each server runs on a free loopback port in a temporary folder. Redis runs with
# appendonly yes and appendfsync always; RabbitMQ's folders belong to the rabbitmq user.
# Exported: VIGIL_REDIS (host:port), VIGIL_RABBITMQ (amqp URI), VIGIL_DEPS_DIR,
# VIGIL_REDIS_PID, VIGIL_RABBITMQ_PID and VIGIL_REDIS_DIR (for tests that kill and restart Redis).

vigil_free_port() {
  # Ask the kernel for a free loopback port; python3 when there, else /dev/tcp probing.
  local port
  for _ in $(seq 1 50); do
    port=$(( (RANDOM % 20000) + 30000 ))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"; return 0
    fi
  done
  return 1
}

vigil_deps_install() {
  local missing=()
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
  command -v rabbitmq-server >/dev/null 2>&1 || [ -x /usr/sbin/rabbitmq-server ] || missing+=(rabbitmq-server)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "deps: installing ${missing[*]} from Debian's packages" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    # policy-rc.d keeps the packages' own services from starting: we start our own.
    apt-get install -y -qq "${missing[@]}" >&2
  fi
}

vigil_deps_start() {
  vigil_deps_install || return 1
  VIGIL_DEPS_DIR=$(mktemp -d /tmp/vigil-deps.XXXXXX)
  chmod 755 "$VIGIL_DEPS_DIR"
  export VIGIL_DEPS_DIR

  # --- Redis: durable as in production (AOF, fsync on every write).
  local rport; rport=$(vigil_free_port)
  VIGIL_REDIS_DIR="$VIGIL_DEPS_DIR/redis"; mkdir -p "$VIGIL_REDIS_DIR"
  cat > "$VIGIL_REDIS_DIR/redis.conf" <<CONF
bind 127.0.0.1
port $rport
dir $VIGIL_REDIS_DIR
appendonly yes
appendfsync always
save ""
daemonize no
protected-mode yes
logfile $VIGIL_REDIS_DIR/redis.log
CONF
  redis-server "$VIGIL_REDIS_DIR/redis.conf" &
  VIGIL_REDIS_PID=$!
  export VIGIL_REDIS="127.0.0.1:$rport" VIGIL_REDIS_PID VIGIL_REDIS_DIR

  # --- RabbitMQ: its own node name, ports and folders, owned by the rabbitmq user.
  local aport dport eport; aport=$(vigil_free_port); dport=$(vigil_free_port); eport=$(vigil_free_port)
  local rdir="$VIGIL_DEPS_DIR/rabbitmq"
  mkdir -p "$rdir/mnesia" "$rdir/log" "$rdir/home"
  cat > "$rdir/rabbitmq.conf" <<CONF
listeners.tcp.default = 127.0.0.1:$aport
loopback_users = none
CONF
  echo "[]." > "$rdir/advanced.config"
  head -c 20 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$rdir/home/.erlang.cookie"
  chmod 400 "$rdir/home/.erlang.cookie"
  chown -R rabbitmq:rabbitmq "$rdir"
  local node="vigil$$@localhost"
  (
    cd "$rdir" || exit 1
    exec env -i PATH="$PATH" HOME="$rdir/home" LANG=C.UTF-8 \
      RABBITMQ_NODENAME="$node" RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT="$aport" \
      RABBITMQ_DIST_PORT="$dport" ERL_EPMD_PORT="$eport" \
      RABBITMQ_MNESIA_BASE="$rdir/mnesia" RABBITMQ_LOG_BASE="$rdir/log" \
      RABBITMQ_CONFIG_FILE="$rdir/rabbitmq.conf" RABBITMQ_ADVANCED_CONFIG_FILE="$rdir/advanced.config" \
      RABBITMQ_ENABLED_PLUGINS_FILE="$rdir/enabled_plugins" RABBITMQ_PID_FILE="$rdir/rabbitmq.pid" \
      runuser -u rabbitmq -- /usr/lib/rabbitmq/bin/rabbitmq-server
  ) > "$rdir/log/stdout.log" 2>&1 &
  VIGIL_RABBITMQ_PID=$!
  export VIGIL_RABBITMQ="amqp://guest:guest@127.0.0.1:$aport/" VIGIL_RABBITMQ_PID
  export VIGIL_RABBITMQ_DIR="$rdir" VIGIL_RABBITMQ_NODE="$node" VIGIL_RABBITMQ_EPMD_PORT="$eport"

  trap vigil_deps_stop EXIT

  # Wait until both answer.
  local i
  for i in $(seq 1 100); do
    redis-cli -p "$rport" ping 2>/dev/null | grep -q PONG && break
    sleep 0.1
  done
  redis-cli -p "$rport" ping 2>/dev/null | grep -q PONG || { echo "deps: redis did not start" >&2; cat "$VIGIL_REDIS_DIR/redis.log" >&2; return 1; }
  for i in $(seq 1 600); do
    (exec 3<>"/dev/tcp/127.0.0.1/$aport") 2>/dev/null && break
    kill -0 "$VIGIL_RABBITMQ_PID" 2>/dev/null || { echo "deps: rabbitmq exited" >&2; tail -40 "$rdir/log/stdout.log" >&2; tail -40 "$rdir"/log/*.log >&2; return 1; }
    sleep 0.1
  done
  (exec 3<>"/dev/tcp/127.0.0.1/$aport") 2>/dev/null || { echo "deps: rabbitmq did not open its port" >&2; tail -40 "$rdir/log/stdout.log" >&2; return 1; }
  # One virtual host per test suite, so suites running side by side never consume each other's events.
  local defs="$rdir/definitions.json" vh first=1
  {
    echo '{"vhosts":['
    for vh in $VIGIL_RABBITMQ_VHOSTS; do [ $first = 1 ] || echo ','; first=0; printf '{"name":"%s"}' "$vh"; done
    echo '],"permissions":['
    first=1
    for vh in $VIGIL_RABBITMQ_VHOSTS; do [ $first = 1 ] || echo ','; first=0; printf '{"user":"guest","vhost":"%s","configure":".*","write":".*","read":".*"}' "$vh"; done
    echo ']}'
  } > "$defs"
  chown rabbitmq:rabbitmq "$defs"
  for i in $(seq 1 100); do
    vigil_rabbitmqctl await_startup >/dev/null 2>&1 && break
    sleep 0.2
  done
  vigil_rabbitmqctl import_definitions "$defs" >/dev/null || { echo "deps: could not create the virtual hosts" >&2; return 1; }
  echo "deps: redis at $VIGIL_REDIS (pid $VIGIL_REDIS_PID), rabbitmq at 127.0.0.1:$aport (pid $VIGIL_RABBITMQ_PID)" >&2
}

# Virtual hosts made at start: one per test suite ("/" stays for local runs).
VIGIL_RABBITMQ_VHOSTS=${VIGIL_RABBITMQ_VHOSTS:-"defaults identity session certificate gateway e2e faults bench"}

# rabbitmqctl against our node (same cookie, node name and epmd port as the server).
vigil_rabbitmqctl() {
  env -i PATH="$PATH" HOME="$VIGIL_RABBITMQ_DIR/home" LANG=C.UTF-8 ERL_EPMD_PORT="$VIGIL_RABBITMQ_EPMD_PORT" \
    runuser -u rabbitmq -- /usr/lib/rabbitmq/bin/rabbitmqctl -n "$VIGIL_RABBITMQ_NODE" "$@"
}

vigil_deps_stop() {
  [ -n "${VIGIL_DEPS_DIR:-}" ] || return 0
  if [ -n "${VIGIL_RABBITMQ_PID:-}" ]; then
    # The Erlang VM runs below runuser: stop the whole tree we started, nothing else.
    local pids; pids=$(pgrep -f "$VIGIL_RABBITMQ_NODE" 2>/dev/null)
    kill "$VIGIL_RABBITMQ_PID" $pids 2>/dev/null
    for _ in $(seq 1 50); do
      pgrep -f "$VIGIL_RABBITMQ_NODE" >/dev/null 2>&1 || break; sleep 0.1
    done
    pkill -9 -f "$VIGIL_RABBITMQ_NODE" 2>/dev/null
    # Our node started its own epmd on our port: stop that one only (others may run beside us).
    local epmd
    for epmd in $(pgrep -u rabbitmq -x epmd 2>/dev/null); do
      tr '\0' '\n' < "/proc/$epmd/environ" 2>/dev/null | grep -qx "ERL_EPMD_PORT=$VIGIL_RABBITMQ_EPMD_PORT" && kill "$epmd" 2>/dev/null
    done
  fi
  [ -n "${VIGIL_REDIS_PID:-}" ] && kill "$VIGIL_REDIS_PID" 2>/dev/null
  wait 2>/dev/null
  rm -rf "$VIGIL_DEPS_DIR"
  unset VIGIL_DEPS_DIR
}
