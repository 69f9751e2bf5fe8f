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
#
# Redis beyond one server (the cluster pass of scripts/test.sh, the failover tests), from the same packages:
#   vigil_redis_cluster_start [DIR]    # 3 primaries + 3 replicas; exports VIGIL_REDIS_CLUSTER (a StackExchange.Redis
#                                      # configuration: every node) and VIGIL_REDIS_CLUSTER_DIR
#   vigil_redis_sentinel_start [DIR]   # a primary, its replica and 3 redis-sentinel watching them as "vigil"; exports
#                                      # VIGIL_REDIS_SENTINEL ("sentinels…,serviceName=vigil") and VIGIL_REDIS_SENTINEL_DIR
# Every node is durable like the standalone one. Each writes DIR/topology (one line per process: role, port, pid,
# configuration file), which the failover tests read to kill, pause and restart nodes; vigil_deps_stop stops them
# by pid (vigil_redis_topology_stop DIR stops one topology alone). Used outside vigil_deps_start (the failover
# tests start their own topologies), both need only redis-server, redis-sentinel and redis-cli.

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
  command -v redis-sentinel >/dev/null 2>&1 || missing+=(redis-sentinel)
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
VIGIL_RABBITMQ_VHOSTS=${VIGIL_RABBITMQ_VHOSTS:-"defaults identity session certificate gateway e2e signin faults failover bench pods"}

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
  [ -n "${VIGIL_REDIS_CLUSTER_DIR:-}" ] && vigil_redis_topology_stop "$VIGIL_REDIS_CLUSTER_DIR"
  [ -n "${VIGIL_REDIS_SENTINEL_DIR:-}" ] && vigil_redis_topology_stop "$VIGIL_REDIS_SENTINEL_DIR"
  wait 2>/dev/null
  rm -rf "$VIGIL_DEPS_DIR"
  unset VIGIL_DEPS_DIR
}

# --- Redis beyond one server -------------------------------------------------------------------------------

# vigil_redis_node_conf DIR PORT [extra lines…]: a durable node's configuration (AOF, fsync on every write).
vigil_redis_node_conf() {
  local dir=$1 port=$2; shift 2
  mkdir -p "$dir"
  {
    cat <<CONF
bind 127.0.0.1
port $port
dir $dir
appendonly yes
appendfsync always
save ""
daemonize no
protected-mode yes
maxmemory-policy noeviction
logfile $dir/redis.log
CONF
    local line; for line in "$@"; do echo "$line"; done
  } > "$dir/redis.conf"
}

# vigil_redis_wait PORT [SECONDS]: until the server on PORT answers PING.
vigil_redis_wait() {
  local i
  for i in $(seq 1 $(( ${2:-20} * 10 ))); do
    redis-cli -p "$1" ping 2>/dev/null | grep -q PONG && return 0
    sleep 0.1
  done
  echo "deps: redis on port $1 did not answer" >&2
  return 1
}

# vigil_redis_spawn TOPOLOGY ROLE PORT CONF [server]: starts one process, records "role port pid conf" in TOPOLOGY.
vigil_redis_spawn() {
  local topology=$1 role=$2 port=$3 conf=$4 program=${5:-redis-server}
  "$program" "$conf" > /dev/null 2>&1 &
  echo "$role $port $! $conf" >> "$topology"
}

# vigil_redis_topology_stop DIR: stops every process DIR/topology lists (by pid), then removes nothing else.
vigil_redis_topology_stop() {
  local topology=$1/topology role port pid conf
  [ -f "$topology" ] || return 0
  while read -r role port pid conf; do
    kill -CONT "$pid" 2>/dev/null; kill "$pid" 2>/dev/null
  done < "$topology"
}

vigil_redis_cluster_start() {
  local dir=${1:-${VIGIL_DEPS_DIR:?}/redis-cluster}
  local timeout=${VIGIL_REDIS_CLUSTER_NODE_TIMEOUT:-3000}
  mkdir -p "$dir"; : > "$dir/topology"
  local ports=() i port attempt
  for i in 0 1 2 3 4 5; do
    # A free port can be taken by another process before redis-server binds it (other suites start servers too):
    # a node that does not come up is stopped and started again on another port.
    for attempt in 1 2 3; do
      # The cluster bus listens on port + 10000: that one must be free too.
      port=$(vigil_free_port) || return 1
      while [[ " ${ports[*]} " == *" $port "* ]] || (exec 3<>"/dev/tcp/127.0.0.1/$((port + 10000))") 2>/dev/null; do
        port=$(vigil_free_port) || return 1
      done
      # cluster-replica-validity-factor 0: a replica that lagged (the failover tests delay one) may still be promoted.
      vigil_redis_node_conf "$dir/node-$port" "$port" "cluster-enabled yes" "cluster-config-file nodes.conf" \
        "cluster-node-timeout $timeout" "cluster-replica-validity-factor 0" "cluster-require-full-coverage yes"
      vigil_redis_spawn "$dir/topology" node "$port" "$dir/node-$port/redis.conf"
      vigil_redis_wait "$port" 10 && break
      echo "deps: redis node on port $port did not start (attempt $attempt): $(tail -2 "$dir/node-$port/redis.log" 2>/dev/null | tr '\n' ' ')" >&2
      kill "$(tail -1 "$dir/topology" | cut -d' ' -f3)" 2>/dev/null; sed -i '$d' "$dir/topology"
      [ "$attempt" = 3 ] && return 1
    done
    ports+=("$port")
  done
  local nodes=() endpoints=""
  for port in "${ports[@]}"; do nodes+=("127.0.0.1:$port"); endpoints+="${endpoints:+,}127.0.0.1:$port"; done
  redis-cli --cluster create "${nodes[@]}" --cluster-replicas 1 --cluster-yes > "$dir/create.log" 2>&1 \
    || { echo "deps: redis-cli --cluster create failed" >&2; cat "$dir/create.log" >&2; return 1; }
  # Ready when every node sees the whole cluster (state ok, 6 nodes) and every replica's link is up.
  for i in $(seq 1 300); do
    local ok=1
    for port in "${ports[@]}"; do
      local info; info=$(redis-cli -p "$port" cluster info 2>/dev/null)
      echo "$info" | grep -q '^cluster_state:ok' && echo "$info" | grep -q '^cluster_known_nodes:6' || { ok=0; break; }
      local repl; repl=$(redis-cli -p "$port" info replication 2>/dev/null)
      if echo "$repl" | grep -q '^role:slave'; then echo "$repl" | grep -q '^master_link_status:up' || { ok=0; break; }; fi
    done
    [ $ok = 1 ] && break
    sleep 0.1
  done
  [ $ok = 1 ] || { echo "deps: the cluster did not settle" >&2; redis-cli -p "${ports[0]}" cluster nodes >&2; return 1; }
  export VIGIL_REDIS_CLUSTER="$endpoints" VIGIL_REDIS_CLUSTER_DIR="$dir"
  echo "deps: redis cluster at $endpoints" >&2
}

vigil_redis_sentinel_start() {
  local dir=${1:-${VIGIL_DEPS_DIR:?}/redis-sentinel}
  local down=${VIGIL_REDIS_SENTINEL_DOWN_AFTER:-2000}
  mkdir -p "$dir"; : > "$dir/topology"
  local primary replica
  primary=$(vigil_free_port) || return 1
  replica=$(vigil_free_port) || return 1
  while [ "$replica" = "$primary" ]; do replica=$(vigil_free_port) || return 1; done
  vigil_redis_node_conf "$dir/node-$primary" "$primary"
  vigil_redis_spawn "$dir/topology" node "$primary" "$dir/node-$primary/redis.conf"
  vigil_redis_node_conf "$dir/node-$replica" "$replica" "replicaof 127.0.0.1 $primary"
  vigil_redis_spawn "$dir/topology" node "$replica" "$dir/node-$replica/redis.conf"
  vigil_redis_wait "$primary" && vigil_redis_wait "$replica" || return 1
  local i s sentinels=() endpoints=""
  for i in 0 1 2; do
    s=$(vigil_free_port) || return 1
    while [[ " $primary $replica ${sentinels[*]} " == *" $s "* ]]; do s=$(vigil_free_port) || return 1; done
    sentinels+=("$s")
    mkdir -p "$dir/sentinel-$s"
    # Sentinel rewrites its own file (what it learns, the failovers): one writable file each.
    cat > "$dir/sentinel-$s/sentinel.conf" <<CONF
bind 127.0.0.1
port $s
dir $dir/sentinel-$s
daemonize no
logfile $dir/sentinel-$s/sentinel.log
sentinel monitor vigil 127.0.0.1 $primary 2
sentinel down-after-milliseconds vigil $down
sentinel failover-timeout vigil 10000
sentinel parallel-syncs vigil 1
CONF
    vigil_redis_spawn "$dir/topology" sentinel "$s" "$dir/sentinel-$s/sentinel.conf" redis-sentinel
    endpoints+="${endpoints:+,}127.0.0.1:$s"
  done
  for s in "${sentinels[@]}"; do vigil_redis_wait "$s" || return 1; done
  # Ready when the replica's link is up and every sentinel knows the replica and the other sentinels.
  local ok=0
  for i in $(seq 1 300); do
    ok=1
    redis-cli -p "$replica" info replication 2>/dev/null | grep -q '^master_link_status:up' || ok=0
    for s in "${sentinels[@]}"; do
      local m; m=$(redis-cli -p "$s" sentinel master vigil 2>/dev/null | tr '\n' ' ')
      [[ "$m" == *"num-slaves 1 "* && "$m" == *"num-other-sentinels 2 "* ]] || ok=0
    done
    [ $ok = 1 ] && break
    sleep 0.1
  done
  [ $ok = 1 ] || { echo "deps: sentinel did not settle" >&2; return 1; }
  export VIGIL_REDIS_SENTINEL="$endpoints,serviceName=vigil" VIGIL_REDIS_SENTINEL_DIR="$dir"
  echo "deps: redis sentinel at $endpoints (service vigil: primary $primary, replica $replica)" >&2
}

# Run as a program (the failover tests start topologies of their own):
#   bash scripts/deps.sh redis-cluster DIR | redis-sentinel DIR   -> prints the configuration string on stdout
#   bash scripts/deps.sh redis-stop DIR
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  case "${1:-}" in
    redis-cluster) vigil_redis_cluster_start "${2:?DIR}" || { vigil_redis_topology_stop "$2"; exit 1; }; echo "$VIGIL_REDIS_CLUSTER" ;;
    redis-sentinel)
      # A port found free can be taken before the server binds it (other suites start servers too): start again.
      for attempt in 1 2 3; do
        vigil_redis_sentinel_start "${2:?DIR}" && { echo "$VIGIL_REDIS_SENTINEL"; exit 0; }
        vigil_redis_topology_stop "$2"; sleep 0.5; rm -rf "${2:?}"/*
        echo "deps: starting the sentinel topology again (attempt $attempt failed)" >&2
      done
      exit 1 ;;
    redis-stop) vigil_redis_topology_stop "${2:?DIR}" ;;
    *) echo "usage: source scripts/deps.sh && vigil_deps_start, or: bash scripts/deps.sh redis-cluster|redis-sentinel|redis-stop DIR" >&2; exit 2 ;;
  esac
fi
