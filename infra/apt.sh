# Sourced by the infra scripts: `apt_install PKG...` installs Debian packages the project needs.
# Runs `apt-get update` only when the install failed because the lists are missing or stale (a
# fresh machine may have none; old ones give 404s). Waits for a dpkg lock another install holds.
# --no-install-recommends: docker.io recommends apparmor, needrestart, git…, none of them needed.
apt_install() {
  local root; root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  local out="$root/.data/apt.log"
  mkdir -p "$root/.data"
  printf '[apt] installing %s (log: .data/apt.log)\n' "$*" >&2
  local apt=(env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300)
  local sudo=(); [ "$(id -u)" = 0 ] || sudo=(sudo -n)
  if "${sudo[@]}" "${apt[@]}" install -y --no-install-recommends "$@" >>"$out" 2>&1; then return 0; fi
  if tail -n 30 "$out" | grep -qE 'Unable to locate package|has no installation candidate|404 +Not Found|Failed to fetch'; then
    printf '[apt] package lists missing or stale; running apt-get update\n' >&2
    "${sudo[@]}" "${apt[@]}" update >>"$out" 2>&1
    "${sudo[@]}" "${apt[@]}" install -y --no-install-recommends "$@" >>"$out" 2>&1 && return 0
  fi
  printf '[apt] apt-get install failed; the end of .data/apt.log:\n' >&2
  tail -n 15 "$out" >&2
  return 1
}
