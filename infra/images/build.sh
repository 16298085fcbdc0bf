#!/usr/bin/env bash
# Builds the local test images without any image registry (none is reachable here):
#   ${TESTKIT_POSTGRES_IMAGE:-sts-local/postgres:15}  Debian bookworm + postgresql-15, official-image-like entrypoint
#   ${TESTKIT_REDIS_IMAGE:-sts-local/redis:7}         Debian bookworm + redis-server 7.0
# How: debootstrap a minbase bookworm rootfs from the Debian mirror the machine's apt already uses
# (cached as a tarball under .data/images/), unpack it per image, apt-get install the server in a
# chroot, strip docs/caches, `docker import` with --change lines for the image config.
# Each image carries a label with a hash of its recipe (this script + its entrypoint); an image whose
# label matches is reused, so a second run only inspects two images.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/infra/images"
DATA="$ROOT/.data/images"
BUILD_LOG="$DATA/build.log"
SUITE=bookworm
PG_MAJOR=15
PG_IMAGE="${TESTKIT_POSTGRES_IMAGE:-sts-local/postgres:15}"
REDIS_IMAGE="${TESTKIT_REDIS_IMAGE:-sts-local/redis:7}"
LABEL=org.sts.recipe

log() { printf '[images] %s\n' "$*" >&2; }
die() { log "$*"; log "last lines of $BUILD_LOG:"; tail -n 20 "$BUILD_LOG" >&2 || true; exit 1; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

if [ "$(id -u)" != 0 ]; then
  # debootstrap, chroot and preserving file ownership in the rootfs all need root.
  exec sudo -n --preserve-env=TESTKIT_POSTGRES_IMAGE,TESTKIT_REDIS_IMAGE,IMAGES_DEBIAN_MIRROR bash "$0" "$@"
fi

recipe_hash() { cat "$HERE/build.sh" "$@" | sha256sum | cut -c1-16; }

image_current() { # image hash
  [ "$(docker image inspect -f "{{ index .Config.Labels \"$LABEL\" }}" "$1" 2>/dev/null || true)" = "$2" ]
}

# Prints the first URI of an enabled `deb` source for the given suite, from one-line (.list)
# and deb822 (.sources) files alike.
apt_uri_for_suite() {
  local suite="$1" f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    grep -v '^[[:space:]]*#' "$f" | awk -v s="$suite" '
      $1 == "deb" { i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/ && i < NF) i++; i++ }
                    if ($(i + 1) == s) { print $i; exit } }'
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    grep -v '^[[:space:]]*#' "$f" | awk -v s="$suite" '
      BEGIN { RS = ""; FS = "\n" }
      { types = ""; uri = ""; suites = ""; enabled = "yes"
        for (i = 1; i <= NF; i++) {
          split($i, kv, ":[[:space:]]*"); key = tolower(kv[1]); val = substr($i, length(kv[1]) + 2)
          gsub(/^[[:space:]]+|[[:space:]]+$/, "", val)
          if (key == "types") types = val; else if (key == "uris") { split(val, u, /[[:space:]]+/); uri = u[1] }
          else if (key == "suites") suites = " " val " "; else if (key == "enabled") enabled = tolower(val)
        }
        if (enabled != "no" && types ~ /(^| )deb( |$)/ && index(suites, " " s " ")) { print uri; exit } }'
  done
}

# The machine's own Debian mirror: the only package source known to be reachable here.
MIRROR="${IMAGES_DEBIAN_MIRROR:-$(apt_uri_for_suite "$SUITE" | head -n 1)}"
MIRROR="${MIRROR:-http://deb.debian.org/debian}"
UPDATES_URI="$(apt_uri_for_suite "$SUITE-updates" | head -n 1)"
SECURITY_URI="$(apt_uri_for_suite "$SUITE-security" | head -n 1)"
ROOTFS_SOURCES="deb $MIRROR $SUITE main"
if [ -n "$UPDATES_URI" ]; then ROOTFS_SOURCES+=$'\n'"deb $UPDATES_URI $SUITE-updates main"; fi
if [ -n "$SECURITY_URI" ]; then ROOTFS_SOURCES+=$'\n'"deb $SECURITY_URI $SUITE-security main"; fi

# Runs a command chrooted into a rootfs, in fresh mount+pid namespaces: /proc is mounted only inside
# (nothing to unmount afterwards, nothing leaks if we are killed), and any daemon a maintainer script
# might fork dies with the namespace. The environment is reset so host settings don't leak in.
in_root() {
  local dir="$1"; shift
  unshare --mount --pid --fork --mount-proc="$dir/proc" chroot "$dir" /usr/bin/env -i \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
    DEBIAN_FRONTEND=noninteractive "$@"
}

# apt-get install inside a rootfs; the cached base carries package lists from when it was built,
# so `apt-get update` runs only if those turned stale (mirror moved on -> 404 / unknown package).
root_apt_install() {
  local dir="$1"; shift
  cp -L /etc/resolv.conf "$dir/etc/resolv.conf"
  if ! in_root "$dir" apt-get install -y -q "$@" >>"$BUILD_LOG" 2>&1; then
    log "install failed; refreshing package lists in the rootfs and retrying"
    in_root "$dir" apt-get update -q >>"$BUILD_LOG" 2>&1 || die "apt-get update failed"
    in_root "$dir" apt-get install -y -q "$@" >>"$BUILD_LOG" 2>&1 || die "apt-get install $* failed"
  fi
}

# Debootstraps the shared minbase rootfs. The cache file name includes a hash of this function and
# of the apt sources, so editing the base recipe (not the per-image steps) rebuilds it.
make_base() {
  local dir="$1"
  debootstrap --variant=minbase --components=main "$SUITE" "$dir" "$MIRROR" >>"$BUILD_LOG" 2>&1 \
    || die "debootstrap failed"
  # No recommends (keeps images small and installs fast); no docs/manpages/translations at all.
  cat >"$dir/etc/apt/apt.conf.d/90sts-local" <<'EOF'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Acquire::Languages "none";
EOF
  cat >"$dir/etc/dpkg/dpkg.cfg.d/90sts-local-nodoc" <<'EOF'
path-exclude=/usr/share/doc/*
path-include=/usr/share/doc/*/copyright
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/locale/*
path-exclude=/usr/share/lintian/*
EOF
  # Maintainer scripts must not try to start services inside the chroot.
  printf '#!/bin/sh\nexit 101\n' >"$dir/usr/sbin/policy-rc.d"
  chmod 0755 "$dir/usr/sbin/policy-rc.d"
  printf '%s\n' "$ROOTFS_SOURCES" >"$dir/etc/apt/sources.list"
  cp -L /etc/resolv.conf "$dir/etc/resolv.conf"
  # Point-release/security updates, so the servers match what the host's apt would install.
  in_root "$dir" apt-get update -q >>"$BUILD_LOG" 2>&1 || die "apt-get update in rootfs failed"
  in_root "$dir" apt-get -y -q upgrade >>"$BUILD_LOG" 2>&1 || die "apt-get upgrade in rootfs failed"
  in_root "$dir" apt-get clean
}

ensure_base() {
  local key
  key="$( { declare -f make_base; echo "$ROOTFS_SOURCES"; } | sha256sum | cut -c1-12)"
  BASE_TAR="$DATA/base-$SUITE-minbase-$key.tar"
  if [ -f "$BASE_TAR" ]; then log "reusing base rootfs $(basename "$BASE_TAR")"; return; fi
  local t0 dir; t0="$(now_ms)"
  log "debootstrap --variant=minbase $SUITE from $MIRROR (log: .data/images/build.log)"
  dir="$WORK/base"
  mkdir -p "$dir"
  make_base "$dir"
  rm -f "$DATA"/base-"$SUITE"-minbase-*.tar
  tar -C "$dir" --numeric-owner -cf "$BASE_TAR.tmp" . && mv "$BASE_TAR.tmp" "$BASE_TAR"
  rm -rf "$dir"
  log "base rootfs ready in $(( ($(now_ms) - t0) / 1000 ))s ($(du -h "$BASE_TAR" | cut -f1))"
}

unpack_base() { rm -rf "$1"; mkdir -p "$1"; tar -C "$1" --numeric-owner -xf "$BASE_TAR"; }

# Removes what a container never needs. /dev, /proc, /sys contents are provided by the runtime.
strip_rootfs() {
  local dir="$1"
  in_root "$dir" apt-get clean
  rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/* "$dir"/var/cache/debconf/*-old \
    "$dir"/var/lib/dpkg/*-old "$dir"/var/log/* "$dir"/tmp/* "$dir"/var/tmp/* "$dir"/root/.cache \
    "$dir"/usr/share/man/* "$dir"/usr/share/info/* "$dir"/usr/share/lintian "$dir"/usr/share/locale/*
  find "$dir/usr/share/doc" -mindepth 1 ! -name copyright ! -type d -delete 2>/dev/null || true
  find "$dir/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
  rm -f "$dir/usr/sbin/policy-rc.d" "$dir/etc/resolv.conf" "$dir/etc/hostname"
  : >"$dir/etc/resolv.conf"
}

import_rootfs() { # dir image hash --change...
  local dir="$1" image="$2" hash="$3"; shift 3
  local changes=() c
  for c in "$@" "LABEL $LABEL=$hash"; do changes+=(--change "$c"); done
  tar -C "$dir" --numeric-owner --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' -cf - . \
    | docker import "${changes[@]}" -m "infra/images/build.sh recipe $hash" - "$image" >>"$BUILD_LOG" \
    || die "docker import $image failed"
}

build_postgres() {
  local hash="$1" dir="$WORK/postgres"
  unpack_base "$dir"
  # Like the official image: no cluster at install time, the entrypoint initdb's PGDATA on first start.
  mkdir -p "$dir/etc/postgresql-common/createcluster.d"
  echo 'create_main_cluster = false' >"$dir/etc/postgresql-common/createcluster.d/no-main-cluster.conf"
  root_apt_install "$dir" "postgresql-$PG_MAJOR"
  rm -rf "$dir/etc/postgresql/$PG_MAJOR" "$dir/var/lib/postgresql/$PG_MAJOR"
  install -m 0755 "$HERE/postgres-entrypoint.sh" "$dir/usr/local/bin/docker-entrypoint.sh"
  mkdir -p "$dir/docker-entrypoint-initdb.d" "$dir/var/lib/postgresql/data" "$dir/run/postgresql"
  in_root "$dir" chown -R postgres:postgres /var/lib/postgresql /run/postgresql
  chmod 0700 "$dir/var/lib/postgresql/data"
  chmod 3777 "$dir/run/postgresql"
  strip_rootfs "$dir"
  # PATH: the real binaries first, not Debian's /usr/bin pg_wrapper (which looks for clusters under
  # /etc/postgresql): testcontainers' healthcheck runs `pg_isready` via /bin/sh -c, and
  # StartedPostgreSqlContainer.snapshot() execs `psql`.
  # No VOLUME for PGDATA (unlike upstream): every test container would leave an anonymous volume.
  # No STOPSIGNAL SIGINT (upstream's "fast" shutdown): dockerd 20.10's import rejects that change;
  # testcontainers stops with timeout 0 (SIGKILL) anyway.
  import_rootfs "$dir" "$PG_IMAGE" "$hash" \
    "ENV PATH=/usr/lib/postgresql/$PG_MAJOR/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    "ENV LANG=C.UTF-8" \
    "ENV PG_MAJOR=$PG_MAJOR" \
    "ENV PGDATA=/var/lib/postgresql/data" \
    'ENTRYPOINT ["docker-entrypoint.sh"]' \
    'CMD ["postgres"]' \
    "EXPOSE 5432"
  rm -rf "$dir"
}

build_redis() {
  local hash="$1" dir="$WORK/redis"
  unpack_base "$dir"
  root_apt_install "$dir" redis-server
  install -m 0755 "$HERE/redis-entrypoint.sh" "$dir/usr/local/bin/docker-entrypoint.sh"
  mkdir -p "$dir/data"
  in_root "$dir" chown redis:redis /data
  strip_rootfs "$dir"
  import_rootfs "$dir" "$REDIS_IMAGE" "$hash" \
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    "ENV LANG=C.UTF-8" \
    'ENTRYPOINT ["docker-entrypoint.sh"]' \
    'CMD ["redis-server"]' \
    "EXPOSE 6379" \
    "WORKDIR /data"
  rm -rf "$dir"
}

main() {
  local t0; t0="$(now_ms)"
  bash "$ROOT/infra/container-engine.sh" ensure
  command -v debootstrap >/dev/null 2>&1 || die "debootstrap missing (infra/container-engine.sh ensure installs it)"
  mkdir -p "$DATA"

  local pg_hash redis_hash todo=()
  pg_hash="$(recipe_hash "$HERE/postgres-entrypoint.sh")"
  redis_hash="$(recipe_hash "$HERE/redis-entrypoint.sh")"
  if image_current "$PG_IMAGE" "$pg_hash"; then log "reusing $PG_IMAGE ($LABEL=$pg_hash)"; else todo+=(postgres); fi
  if image_current "$REDIS_IMAGE" "$redis_hash"; then log "reusing $REDIS_IMAGE ($LABEL=$redis_hash)"; else todo+=(redis); fi
  [ "${#todo[@]}" -gt 0 ] || return 0

  # One builder at a time (two test runs starting together); the loser re-checks and reuses.
  exec 9>"$DATA/build.lock"
  flock 9
  rm -rf "$DATA"/work.*  # left by a killed run; safe, we hold the lock and chroots mount nothing outside
  WORK="$(mktemp -d "$DATA/work.XXXXXX")"
  trap 'rm -rf "$WORK"' EXIT
  : >"$BUILD_LOG"
  ensure_base
  local what t
  for what in "${todo[@]}"; do
    t="$(now_ms)"
    case "$what" in
      postgres)
        if image_current "$PG_IMAGE" "$pg_hash"; then continue; fi
        log "building $PG_IMAGE"; build_postgres "$pg_hash" ;;
      redis)
        if image_current "$REDIS_IMAGE" "$redis_hash"; then continue; fi
        log "building $REDIS_IMAGE"; build_redis "$redis_hash" ;;
    esac
    log "built $what in $(( ($(now_ms) - t) / 1000 ))s"
  done
  log "done in $(( ($(now_ms) - t0) / 1000 ))s"
}

main "$@"
