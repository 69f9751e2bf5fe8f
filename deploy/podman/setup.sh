#!/usr/bin/env bash
# Podman on a Debian machine without a container registry, for building and running Vigil's images.
#
#   bash deploy/podman/setup.sh          # installs and configures podman, makes the base images
#
# 1. Installs podman, buildah, podman-compose, runc and debootstrap from Debian when missing.
# 2. Configures the engine (/etc/containers/containers.conf): runc with cgroupfs, and file/process limits
#    that RabbitMQ and .NET accept. Only the keys Vigil needs are written, once.
# 3. Makes the base images locally, because no registry is reachable: a `debootstrap --variant=minbase
#    bookworm` root file system, imported with `podman import`, then
#      mcr.microsoft.com/dotnet/aspnet:10.0   minbase + the libraries .NET needs + this machine's ASP.NET Core runtime
#      mcr.microsoft.com/dotnet/sdk:10.0      the same + this machine's .NET SDK
#      docker.io/library/redis:7.4-alpine     minbase + Debian's redis-server   (the names docker-compose.yml uses;
#      docker.io/library/rabbitmq:4.1-alpine  minbase + Debian's rabbitmq-server  Debian's versions inside)
#    Everything reusable is cached under $VIGIL_CONTAINER_CACHE (default /var/cache/vigil-containers): the
#    root file systems as tarballs keyed by what they contain. An image already present with the same key
#    (its label vigil.base-key) is kept, so a second run takes seconds.
# Idempotent. Exit code 0 when every base image is there.
set -euo pipefail
CACHE=${VIGIL_CONTAINER_CACHE:-/var/cache/vigil-containers}
MIRROR=${VIGIL_DEBIAN_MIRROR:-http://deb.debian.org/debian}
SUITE=bookworm
DOTNET_ROOT=${DOTNET_ROOT:-$(dirname "$(readlink -f "$(command -v dotnet)")")}
mkdir -p "$CACHE"
log() { echo "podman-setup: $*" >&2; }

# --- 1. Packages.
need=()
for tool in podman buildah podman-compose runc debootstrap; do command -v "$tool" >/dev/null 2>&1 || need+=("$tool"); done
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq podman buildah podman-compose runc debootstrap >/dev/null
fi

# --- 2. Engine configuration (only our keys; an existing file is extended, never replaced).
conf=/etc/containers/containers.conf
mkdir -p /etc/containers
touch "$conf"
if ! grep -q '^# vigil: podman settings' "$conf"; then
  log "configuring $conf"
  tmp=$(mktemp)
  {
    echo '# vigil: podman settings (deploy/podman/setup.sh)'
    echo '[containers]'
    echo 'default_ulimits = ["nofile=20000:20000","nproc=32768:32768"]'
    echo '[engine]'
    echo 'runtime = "runc"'
    echo 'cgroup_manager = "cgroupfs"'
    echo 'events_logger = "file"'
    # The rest of an existing file, minus the sections we just wrote (TOML forbids repeating them).
    grep -v -E '^\s*\[(containers|engine)\]\s*$' "$conf" | grep -v -E '^\s*(default_ulimits|runtime|cgroup_manager|events_logger)\s*=' || true
  } > "$tmp"
  mv "$tmp" "$conf"
fi

# --- 3. Base images.
runtime_version=$(ls "$DOTNET_ROOT/shared/Microsoft.AspNetCore.App" | sort -V | tail -1)
sdk_version=$(ls "$DOTNET_ROOT/sdk" | sort -V | tail -1)
# Libraries .NET and SkiaSharp (identity's photo checks) load at run time; ca-certificates for TLS; tzdata for time zones.
RUNTIME_PACKAGES=ca-certificates,tzdata,libicu72,libssl3,zlib1g,libstdc++6,libgcc-s1,libfontconfig1

has_image() { # NAME KEY: the image exists with that key
  [ "$(podman image inspect --format '{{index .Labels "vigil.base-key"}}' "$1" 2>/dev/null)" = "$2" ]
}

# A minbase root file system with the runtime libraries, cached as a tarball.
rootfs_tar() {
  local key tar
  key=$(echo "$SUITE $RUNTIME_PACKAGES" | sha256sum | cut -c1-12)
  tar="$CACHE/minbase-$SUITE-$key.tar"
  if [ ! -s "$tar" ]; then
    log "debootstrap --variant=minbase $SUITE (cached as $tar)"
    local dir; dir=$(mktemp -d "$CACHE/rootfs.XXXXXX")
    debootstrap --variant=minbase --include="$RUNTIME_PACKAGES" "$SUITE" "$dir" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 \
      || { tail -20 "$CACHE/debootstrap.log" >&2; rm -rf "$dir"; return 1; }
    chroot "$dir" apt-get clean
    rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/*.bin "$dir"/usr/share/doc/* "$dir"/usr/share/man/* "$dir"/usr/share/info/*
    tar -C "$dir" -cf "$tar.tmp" . && mv "$tar.tmp" "$tar"
    rm -rf "$dir"
  fi
  echo "$tar"
}

# import NAME KEY TAR [--change ...]: podman import with our label.
import() {
  local name=$1 key=$2 tar=$3; shift 3
  podman import --change "LABEL vigil.base-key=$key" "$@" "$tar" "$name" >/dev/null
}

# Extends the minbase tarball: EXTRA_DIR_FN populates a copy of the root file system.
derived_tar() { # NAME KEY FUNCTION
  local name=$1 key=$2 fn=$3 out="$CACHE/$1-$2.tar"
  if [ ! -s "$out" ]; then
    local base dir; base=$(rootfs_tar)
    dir=$(mktemp -d "$CACHE/$name.XXXXXX")
    tar -C "$dir" -xf "$base"
    "$fn" "$dir" || { rm -rf "$dir"; return 1; }
    tar -C "$dir" -cf "$out.tmp" . && mv "$out.tmp" "$out"
    rm -rf "$dir"
  fi
  echo "$out"
}

copy_runtime() { # DIR: the shared runtimes and the host (muxer + hostfxr) only
  local d=$1/usr/share/dotnet
  mkdir -p "$d/shared" "$d/host"
  cp -a "$DOTNET_ROOT/dotnet" "$d/"
  cp -a "$DOTNET_ROOT/host/fxr" "$d/host/"
  mkdir -p "$d/shared/Microsoft.NETCore.App" "$d/shared/Microsoft.AspNetCore.App"
  cp -a "$DOTNET_ROOT/shared/Microsoft.NETCore.App/$runtime_version" "$d/shared/Microsoft.NETCore.App/"
  cp -a "$DOTNET_ROOT/shared/Microsoft.AspNetCore.App/$runtime_version" "$d/shared/Microsoft.AspNetCore.App/"
  ln -sf /usr/share/dotnet/dotnet "$1/usr/bin/dotnet"
}
copy_sdk() { # DIR: the whole SDK
  mkdir -p "$1/usr/share"
  cp -a "$DOTNET_ROOT" "$1/usr/share/dotnet"
  ln -sf /usr/share/dotnet/dotnet "$1/usr/bin/dotnet"
}
apt_in() { # DIR PACKAGES...: Debian packages installed in a chroot, services kept from starting
  local dir=$1; shift
  printf '#!/bin/sh\nexit 101\n' > "$dir/usr/sbin/policy-rc.d"; chmod 755 "$dir/usr/sbin/policy-rc.d"
  cp /etc/resolv.conf "$dir/etc/resolv.conf"
  echo "deb $MIRROR $SUITE main" > "$dir/etc/apt/sources.list"
  chroot "$dir" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  chroot "$dir" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
  chroot "$dir" apt-get clean
  rm -rf "$dir"/var/lib/apt/lists/* "$dir"/usr/sbin/policy-rc.d "$dir"/usr/share/doc/* "$dir"/usr/share/man/*
  : > "$dir/etc/resolv.conf"
}
redis_fs() {
  apt_in "$1" redis-server
  # Like the official image (whose build turns protected mode off: a container's port is reached from other
  # containers, never from the host unless published): Debian's redis-server, started without a configuration
  # file, would refuse every client but localhost ("DENIED Redis is running in protected mode").
  printf '%s\n' '#!/bin/sh' \
    'if [ "$1" = redis-server ]; then shift; exec redis-server "$@" --protected-mode no; fi' \
    'exec "$@"' > "$1/usr/local/bin/docker-entrypoint.sh"
  chmod 755 "$1/usr/local/bin/docker-entrypoint.sh"
}
rabbitmq_fs() {
  apt_in "$1" rabbitmq-server
  # The compose file mounts a volume on /var/lib/rabbitmq: it must belong to the rabbitmq user.
  chroot "$1" chown -R rabbitmq:rabbitmq /var/lib/rabbitmq
}

make_image() { # NAME KEY FUNCTION CHANGES...
  local name=$1 key=$2 fn=$3; shift 3
  if has_image "$name" "$key"; then log "$name: present"; return 0; fi
  log "$name: making"
  local tar; tar=$(derived_tar "$(echo "$name" | tr '/:' '__')" "$key" "$fn")
  import "$name" "$key" "$tar" "$@"
}

base_key=$(echo "$SUITE $RUNTIME_PACKAGES" | sha256sum | cut -c1-12)
make_image mcr.microsoft.com/dotnet/aspnet:10.0 "$base_key-rt$runtime_version" copy_runtime \
  --change "ENV DOTNET_ROOT=/usr/share/dotnet" --change "ENV PATH=/usr/local/bin:/usr/bin:/bin" \
  --change "ENV HOME=/tmp" --change "ENV DOTNET_RUNNING_IN_CONTAINER=true"
make_image mcr.microsoft.com/dotnet/sdk:10.0 "$base_key-sdk$sdk_version" copy_sdk \
  --change "ENV DOTNET_ROOT=/usr/share/dotnet" --change "ENV PATH=/usr/local/bin:/usr/bin:/bin" \
  --change "ENV DOTNET_CLI_TELEMETRY_OPTOUT=1" --change "ENV DOTNET_NOLOGO=1" \
  --change "ENV NUGET_CERT_REVOCATION_MODE=offline" --change "ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"
make_image docker.io/library/redis:7.4-alpine "$base_key-redis2" redis_fs \
  --change 'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]' --change 'CMD ["redis-server"]' --change "WORKDIR /data" --change "EXPOSE 6379"
make_image docker.io/library/rabbitmq:4.1-alpine "$base_key-rabbitmq" rabbitmq_fs \
  --change "USER rabbitmq" --change "ENV HOME=/var/lib/rabbitmq" --change "ENV LANG=C.UTF-8" \
  --change 'CMD ["/usr/lib/rabbitmq/bin/rabbitmq-server"]' --change "EXPOSE 5672"
log "base images ready"
