#!/usr/bin/env bash
# Entrypoint of the locally built sts-local/redis image (see build.sh). Needed because Debian's
# redis-server keeps the upstream default protected-mode=yes: without a config file or password
# it refuses every client that is not on loopback, i.e. everything coming through a published
# port. The official image patches that default to "no" at compile time; we pass it as the first
# option instead, so a caller's own `--protected-mode yes` later on the command line still wins.
set -euo pipefail

# `docker run image --databases 1024` or `... /path/redis.conf` -> `redis-server ...`
if [ "${1:-}" = "" ] || [ "${1:0:1}" = "-" ] || [ "${1%.conf}" != "$1" ]; then set -- redis-server "$@"; fi

if [ "$1" = redis-server ]; then
  shift
  if [ "$#" -gt 0 ] && [ "${1:0:1}" != "-" ]; then
    # A config file must stay the first argument; it decides protected-mode itself.
    set -- redis-server "$@"
  else
    set -- redis-server --protected-mode no "$@"
  fi
  if [ "$(id -u)" = 0 ]; then
    # Like the official image: fix ownership of /data (may be a root-owned bind mount, see
    # RedisContainer.withPersistence) and drop to the redis user. setpriv needs no PAM config.
    find /data \! -user redis -exec chown redis:redis '{}' +
    exec setpriv --reuid=redis --regid=redis --init-groups -- "$@"
  fi
fi

exec "$@"
