#!/usr/bin/env bash
# Entrypoint of the locally built sts-local/postgres image (see build.sh); installed as
# /usr/local/bin/docker-entrypoint.sh because @testcontainers/postgresql's withSSL() wrapper execs
# exactly that path. Behaves like the official postgres image's entrypoint for what tests use:
#   env POSTGRES_USER (default postgres; becomes the bootstrap superuser), POSTGRES_PASSWORD,
#   POSTGRES_DB (default = POSTGRES_USER), POSTGRES_INITDB_ARGS, POSTGRES_HOST_AUTH_METHOD,
#   PGDATA, /docker-entrypoint-initdb.d/*.{sh,sql,sql.gz}; command `postgres [-c key=value ...]`
#   or just `-c key=value ...`.
set -euo pipefail

log() { printf '[entrypoint] %s\n' "$*" >&2; }

# `docker run image -c fsync=off` -> `postgres -c fsync=off`
if [ "${1:-}" = "" ] || [ "${1:0:1}" = "-" ]; then set -- postgres "$@"; fi

if [ "$1" != postgres ]; then exec "$@"; fi

export PGDATA="${PGDATA:-/var/lib/postgresql/data}"

if [ "$(id -u)" = 0 ]; then
  # Root only prepares directories (a bind mount or copied-in files may be root-owned), then
  # re-runs this script as postgres. setpriv (util-linux) needs no PAM config, unlike su/runuser.
  mkdir -p "$PGDATA" /var/run/postgresql
  find "$PGDATA" \! -user postgres -exec chown postgres:postgres '{}' +
  chmod 700 "$PGDATA"
  chown postgres:postgres /var/run/postgresql
  chmod 3777 /var/run/postgresql
  export HOME=/var/lib/postgresql
  exec setpriv --reuid=postgres --regid=postgres --init-groups -- "$0" "$@"
fi

POSTGRES_USER="${POSTGRES_USER:-postgres}"
POSTGRES_DB="${POSTGRES_DB:-$POSTGRES_USER}"
auth="${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}"

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "$auth" != trust ]; then
    log "POSTGRES_PASSWORD is not set (set it, or POSTGRES_HOST_AUTH_METHOD=trust)"
    exit 1
  fi
  pwfile="$(mktemp)"
  printf '%s\n' "${POSTGRES_PASSWORD:-}" >"$pwfile"
  # Local (unix socket) connections trust, as in the official image: `docker exec psql -U ...`
  # (used by StartedPostgreSqlContainer.snapshot()) works without a password. All TCP needs one.
  # shellcheck disable=SC2086  # POSTGRES_INITDB_ARGS is a list of words, like upstream
  initdb --username="$POSTGRES_USER" --pwfile="$pwfile" --auth-local=trust --auth-host="$auth" \
    ${POSTGRES_INITDB_ARGS:-} >/dev/null
  rm -f "$pwfile"
  {
    echo
    echo "# added by docker-entrypoint.sh"
    echo "host all all all $auth"
  } >>"$PGDATA/pg_hba.conf"
  echo "listen_addresses = '*'" >>"$PGDATA/postgresql.conf"

  # Temporary server for setup: unix socket only (listen_addresses=''), so nothing reaching
  # 0.0.0.0:5432 (healthcheck, testcontainers' port checks, the test) sees a half-initialised DB.
  pg_ctl --silent --wait --timeout=60 -D "$PGDATA" -o "-c listen_addresses='' -p 5432" start
  psql_setup=(psql -v ON_ERROR_STOP=1 --no-psqlrc --quiet --username "$POSTGRES_USER" --no-password)
  if [ "$POSTGRES_DB" != postgres ]; then
    "${psql_setup[@]}" --dbname postgres --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";'
  fi
  for f in /docker-entrypoint-initdb.d/*; do
    [ -e "$f" ] || continue
    case "$f" in
      *.sh) log "running $f"; if [ -x "$f" ]; then "$f"; else . "$f"; fi ;;
      *.sql) log "running $f"; "${psql_setup[@]}" --dbname "$POSTGRES_DB" -f "$f" ;;
      *.sql.gz) log "running $f"; gzip -dc "$f" | "${psql_setup[@]}" --dbname "$POSTGRES_DB" ;;
      *) log "ignoring $f" ;;
    esac
  done
  pg_ctl --silent --wait -D "$PGDATA" -m fast stop
  log "database initialised; starting postgres"
fi

# Extra `-c key=value` arguments from the caller (e.g. -c fsync=off) pass straight through.
exec "$@"
