#!/usr/bin/env bash
# Local PostgreSQL and Redis for `./run start`, from the machine's binaries, data under .data/.
# `up` starts them (installing what is missing) and prints their URLs as shell assignments;
# `down` stops them. Idempotent: a second `up` finds them running.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DATA="$ROOT/.data/local"
PG_BIN="${LOCAL_PG_BIN:-/usr/lib/postgresql/15/bin}"
PG_PORT="${LOCAL_PG_PORT:-54329}"
REDIS_PORT="${LOCAL_REDIS_PORT:-63799}"
PG_DIR="$DATA/postgres"

log() { printf '[local-stack] %s\n' "$*" >&2; }

. "$ROOT/infra/apt.sh"

# PostgreSQL refuses to run as root: the cluster belongs to the `postgres` user when we are root.
# (From `/`: the checkout may be a directory postgres cannot enter.)
as_pg() { if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi; }

# As root, the cluster belongs to `postgres`, who may not reach this checkout (a clone under /root,
# or any 0700 directory): then the cluster lives in postgres's own home, one per checkout.
choose_pg_dir() {
  if [ "$(id -u)" = 0 ] && ! runuser -u postgres -- test -x "$ROOT" 2>/dev/null; then
    PG_DIR="/var/lib/postgresql/sts-local-$(printf '%s' "$ROOT" | sha256sum | cut -c1-12)"
  fi
}

postgres_up() {
  [ -x "$PG_BIN/postgres" ] || apt_install postgresql-15
  mkdir -p "$DATA"
  choose_pg_dir
  if [ ! -f "$PG_DIR/PG_VERSION" ]; then
    log "initialising a PostgreSQL cluster in $PG_DIR"
    mkdir -p "$PG_DIR"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$PG_DIR" && { [ "$PG_DIR" != "$DATA/postgres" ] || chown postgres:postgres "$DATA"; }
    as_pg "$PG_BIN/initdb" -D "$PG_DIR" -U postgres --auth=trust -E UTF8 >/dev/null
  fi
  if as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR" status >/dev/null 2>&1; then
    log "PostgreSQL already running on 127.0.0.1:$PG_PORT"
  else
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR" -l "$PG_DIR/server.log" -w -t 30 \
      -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1" start >/dev/null
    log "PostgreSQL started on 127.0.0.1:$PG_PORT"
  fi
  as_pg "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -Atqc "select 1 from pg_database where datname = 'sts'" |
    grep -q 1 || as_pg "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres sts
}

redis_up() {
  command -v redis-server >/dev/null 2>&1 || apt_install redis-server
  mkdir -p "$DATA/redis"
  if redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then
    log "Redis already running on 127.0.0.1:$REDIS_PORT"
  else
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$DATA/redis" --appendonly yes \
      --daemonize yes --pidfile "$DATA/redis/redis.pid" --logfile "$DATA/redis/redis.log"
    for _ in $(seq 1 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
    log "Redis started on 127.0.0.1:$REDIS_PORT"
  fi
}

case "${1:-}" in
  install)
    [ -x "$PG_BIN/postgres" ] || apt_install postgresql-15
    command -v redis-server >/dev/null 2>&1 || apt_install redis-server
    ;;
  up)
    postgres_up
    redis_up
    echo "DATABASE_URL=postgres://postgres@127.0.0.1:$PG_PORT/sts"
    echo "REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0"
    ;;
  down)
    choose_pg_dir
    [ -f "$PG_DIR/PG_VERSION" ] && as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR" -m fast stop >/dev/null 2>&1 || true
    redis-cli -p "$REDIS_PORT" shutdown >/dev/null 2>&1 || true
    log "stopped"
    ;;
  *)
    echo "usage: $0 install|up|down" >&2
    exit 2
    ;;
esac
