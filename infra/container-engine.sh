#!/usr/bin/env bash
# Makes a Docker engine available for testcontainers on a machine without systemd.
#
#   infra/container-engine.sh ensure    install docker.io (+ docker-compose, debootstrap) if missing,
#                                       start dockerd if it does not answer, wait until it does
#   infra/container-engine.sh cleanup   remove leftover testcontainers containers/networks/volumes
#   infra/container-engine.sh stop      stop the dockerd this script started (pid in .data/)
#   infra/container-engine.sh status    exit 0 if the engine answers
#
# Can also be sourced (`. infra/container-engine.sh`) to get engine_ensure / engine_cleanup.
# Idempotent: when the engine already answers, `ensure` costs one `docker info` round trip.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ENGINE_DATA="$ROOT/.data"
ENGINE_LOG="$ENGINE_DATA/dockerd.log"
ENGINE_PIDFILE="$ENGINE_DATA/dockerd.pid"
ENGINE_WAIT_SECONDS="${ENGINE_WAIT_SECONDS:-30}"

engine_log() { printf '[engine] %s\n' "$*" >&2; }

engine_sudo() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }

engine_answers() { docker info >/dev/null 2>&1; }

. "$ROOT/infra/apt.sh"

engine_have_tools() { command -v docker-compose >/dev/null 2>&1 && command -v debootstrap >/dev/null 2>&1; }

engine_install() {
  local pkgs=()
  # No local dockerd is fine if the engine answers anyway (e.g. DOCKER_HOST points elsewhere).
  if ! command -v dockerd >/dev/null 2>&1 && ! engine_answers; then pkgs+=(docker.io); fi
  # docker.io only *suggests* these; the image build needs debootstrap, a compose-file check needs docker-compose.
  command -v docker-compose >/dev/null 2>&1 || pkgs+=(docker-compose)
  command -v debootstrap >/dev/null 2>&1 || pkgs+=(debootstrap)
  if [ "${#pkgs[@]}" -gt 0 ]; then apt_install "${pkgs[@]}"; fi
}

engine_our_pid() {
  local pid
  pid="$(cat "$ENGINE_PIDFILE" 2>/dev/null || true)"
  if [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null || true)" = dockerd ]; then echo "$pid"; fi
}

# Starts dockerd with the given flags and waits until `docker info` answers.
# Returns 1 (after stopping it) if it dies or does not answer within ENGINE_WAIT_SECONDS.
engine_try_start() {
  local flags="$1" pid deadline started
  engine_log "starting dockerd ${flags:-(default flags)} (log: .data/dockerd.log)"
  printf '\n===== %s dockerd %s\n' "$(date -Is)" "$flags" >>"$ENGINE_LOG"
  rm -f "$ENGINE_PIDFILE"
  # setsid -f: own session, so the daemon survives the shell / test runner / CI step that started it
  # (they kill their process group on exit). The sh records its pid and execs dockerd, so the pid
  # file names dockerd itself.
  # shellcheck disable=SC2086  # $flags is a list of simple words, split on purpose
  engine_sudo setsid -f sh -c 'echo $$ >"$1"; shift; exec dockerd "$@"' sh "$ENGINE_PIDFILE" $flags \
    >>"$ENGINE_LOG" 2>&1 </dev/null
  started="$(date +%s%N)"
  deadline=$((SECONDS + ENGINE_WAIT_SECONDS))
  while [ "$SECONDS" -lt "$deadline" ]; do
    if engine_answers; then
      engine_log "dockerd up (pid $(engine_our_pid)) after $(( ($(date +%s%N) - started) / 1000000 )) ms"
      return 0
    fi
    pid="$(cat "$ENGINE_PIDFILE" 2>/dev/null || true)"
    if [ -n "$pid" ] && [ ! -d "/proc/$pid" ]; then
      engine_log "dockerd exited: $(grep -iE 'level=(error|fatal)|failed' "$ENGINE_LOG" | tail -n 1 | cut -c1-240)"
      return 1
    fi
    sleep 0.2
  done
  engine_log "dockerd did not answer within ${ENGINE_WAIT_SECONDS}s; stopping it"
  engine_stop
  return 1
}

engine_start() {
  # Candidate flag sets, defaults first. Each fallback removes one thing a sandbox may lack:
  #  --iptables=false  no netfilter/nat in the kernel or no iptables binary. Publishing (-p) still
  #                    works: docker-proxy (userland proxy) listens on the host port itself.
  #  --storage-driver=vfs  overlayfs unusable (e.g. /var/lib/docker on overlay without support);
  #                    slow and disk-hungry, hence last.
  #  --bridge=none is never used: it would break port publishing, which testcontainers needs.
  # Nothing is remembered between starts: a failing flag set makes dockerd exit within ~2 s, and a
  # remembered fallback would stick even after the cause is gone.
  local flags
  for flags in "" "--iptables=false --ip-masq=false" "--storage-driver=vfs" \
    "--storage-driver=vfs --iptables=false --ip-masq=false"; do
    if engine_try_start "$flags"; then return 0; fi
  done
  engine_log "could not start dockerd with any flag set; see $ENGINE_LOG"
  return 1
}

# pid of a dockerd that is alive but not answering (starting up, or shutting down: it closes the
# API first and may then wait up to 15 s for containers). Starting a second one would fail on
# /var/run/docker.pid and be mistaken for a bad flag set.
engine_running_pid() {
  local pid
  for pid in "$(cat /var/run/docker.pid 2>/dev/null || true)" "$(engine_our_pid)"; do
    if [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null || true)" = dockerd ]; then echo "$pid"; return; fi
  done
}

engine_wait_existing() {
  local pid deadline
  pid="$(engine_running_pid)"
  [ -n "$pid" ] || return 0
  engine_log "dockerd (pid $pid) is running but not answering; waiting up to ${ENGINE_WAIT_SECONDS}s"
  deadline=$((SECONDS + ENGINE_WAIT_SECONDS))
  while [ "$SECONDS" -lt "$deadline" ] && [ -d "/proc/$pid" ]; do
    if engine_answers; then return 0; fi
    sleep 0.2
  done
  if [ -d "/proc/$pid" ] && ! engine_answers; then
    engine_log "dockerd (pid $pid) neither answers nor exits; stop it (infra/container-engine.sh stop) and retry"
    return 1
  fi
}

engine_ensure() {
  if engine_answers && engine_have_tools; then return 0; fi
  mkdir -p "$ENGINE_DATA"
  # Serialise concurrent callers (parallel test projects, two terminals): one installs/starts,
  # the others wait and then find the engine answering.
  exec {engine_lock_fd}>"$ENGINE_DATA/engine.lock"
  flock "$engine_lock_fd"
  engine_install
  if ! engine_answers; then
    engine_wait_existing
    if ! engine_answers; then engine_start; fi
  fi
  flock -u "$engine_lock_fd"
  exec {engine_lock_fd}>&-
}

engine_stop() {
  local pid i
  pid="$(engine_our_pid)"
  if [ -z "$pid" ]; then engine_log "no dockerd started by this script is running"; return 0; fi
  engine_log "stopping dockerd (pid $pid)"
  engine_sudo kill -TERM "$pid"
  # dockerd gives running containers up to 15 s (--shutdown-timeout) before killing them.
  for i in $(seq 1 300); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
  if [ -d "/proc/$pid" ]; then engine_log "dockerd $pid still running after 30s"; return 1; fi
  rm -f "$ENGINE_PIDFILE"
}

# testcontainers runs with TESTCONTAINERS_RYUK_DISABLED=true here, so nothing reaps what a crashed
# or interrupted test run leaves behind; everything it creates carries org.testcontainers=true.
engine_cleanup() {
  if ! engine_answers; then engine_log "engine not running; nothing to clean"; return 0; fi
  local ids n
  ids="$(docker ps -aq --filter label=org.testcontainers=true)"
  n="$(printf '%s' "$ids" | grep -c . || true)"
  if [ "$n" -gt 0 ]; then
    # shellcheck disable=SC2086
    docker rm -f -v $ids >/dev/null
  fi
  docker network prune -f --filter label=org.testcontainers=true >/dev/null
  docker volume prune -f --filter label=org.testcontainers=true >/dev/null
  engine_log "removed $n testcontainers container(s)"
}

engine_main() {
  case "${1:-ensure}" in
    ensure) engine_ensure ;;
    cleanup) engine_cleanup ;;
    stop) engine_stop ;;
    status) engine_answers ;;
    *) echo "usage: $0 [ensure|cleanup|stop|status]" >&2; return 2 ;;
  esac
}

# Run only when executed, not when sourced.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then engine_main "$@"; fi
