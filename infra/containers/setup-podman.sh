#!/usr/bin/env bash
# Makes podman usable as the Docker engine of the fault tests (testcontainers) on a Debian machine
# without Docker. Idempotent: safe to run before every test run.
#   - runtime runc (crun fails on this machine's cgroup layout) and explicit default ulimits
#     (without them containers inherit limits podman cannot set here);
#   - the Docker-compatible API socket at /run/podman/podman.sock (podman system service, kept running),
#     started from / (a folder that stays); one whose working directory is gone is replaced (below).
# Needs root (the rootful socket); prints what it did on stderr.
set -euo pipefail

SOCK=/run/podman/podman.sock
CONF=/etc/containers/containers.conf
LOG=${KC_PODMAN_LOG:-/var/log/kongchuo-podman-service.log}

say() { echo "[setup-podman] $*" >&2; }

if ! command -v podman >/dev/null || ! command -v runc >/dev/null; then
  say "podman/runc missing: apt-get install -y podman runc debootstrap"
  exit 1
fi

want_conf='[containers]
default_ulimits = ["nofile=20000:20000", "nproc=1000:1000"]

[engine]
runtime = "runc"'
if [ ! -f "$CONF" ] || ! grep -q 'runtime = "runc"' "$CONF" || ! grep -q 'nofile=20000:20000' "$CONF"; then
  mkdir -p "$(dirname "$CONF")"
  if [ -f "$CONF" ]; then cp "$CONF" "$CONF.kongchuo-backup"; fi
  printf '%s\n' "$want_conf" >"$CONF"
  say "wrote $CONF"
fi

# Port forwarding rules netavark left behind: podman 4.3 does not always remove a container's DNAT rules
# when the container is removed while running (podman rm -f), and a stale rule for a port matches
# before the new container's ("No route to host" on 127.0.0.1:<port>). Drop the rules of containers
# that no longer exist and DNAT targets no running container has.
clean_stale_forwards() {
  command -v iptables >/dev/null || return 0
  local ids ips rule id ip
  ids=" $(podman ps -a -q --no-trunc | tr '\n' ' ') "
  ips=" $(podman ps -q | xargs -r podman inspect --format '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}' | tr '\n' ' ') "
  { iptables -t nat -S 2>/dev/null | grep -E '^-A NETAVARK-HOSTPORT-DNAT .*id: [0-9a-f]{64}' || true; } | while read -r rule; do
    id=$(sed -E 's/.*id: ([0-9a-f]{64}).*/\1/' <<<"$rule")
    if [[ "$ids" != *" $id "* ]]; then
      eval "iptables -t nat ${rule/-A/-D}" 2>/dev/null && say "removed stale forward of container ${id:0:12}" || true
    fi
  done
  { iptables -t nat -S 2>/dev/null | grep -E '^-A NETAVARK-DN-.* -j DNAT --to-destination ' || true; } | while read -r rule; do
    ip=$(sed -E 's/.*--to-destination ([0-9.]+):.*/\1/' <<<"$rule")
    if [[ "$ips" != *" $ip "* ]]; then
      eval "iptables -t nat ${rule/-A/-D}" 2>/dev/null && say "removed stale DNAT to $ip" || true
    fi
  done
  return 0
}

answers() { timeout 5 podman --url "unix://$SOCK" version >/dev/null 2>&1; }

# The pids of `podman system service … unix://$SOCK` (by their exact command line, not by name).
service_pids() {
  local f pid cmd
  for f in /proc/[0-9]*/cmdline; do
    pid=${f#/proc/}
    pid=${pid%/cmdline}
    cmd=$(tr '\0' ' ' 2>/dev/null <"$f") || continue
    case "$cmd" in
      *"podman system service "*"unix://$SOCK"*) echo "$pid" ;;
    esac
  done
}

# Issue 19: a service started by an earlier run from that run's clone keeps the clone's folder as its
# working directory; once the clone is deleted, every container it starts fails with "write child:
# broken pipe" (the runtime's children cannot start in a directory that is gone) while `podman
# version` still answers. Such a service is replaced; ours starts from / (below).
cwd_gone() {
  local link
  link=$(readlink "/proc/$1/cwd" 2>/dev/null) || return 1 # not ours to read, or gone: leave it
  [[ "$link" == *" (deleted)" ]] && return 0
  [ -d "$link" ] || return 0
  # Deleted and a new folder of the same name made since (a fresh clone at the same path): no links.
  [ "$(stat -L -c %h "/proc/$1/cwd" 2>/dev/null || echo 1)" = 0 ]
}

replace_stale_service() {
  local pid stale=()
  for pid in $(service_pids); do
    if cwd_gone "$pid"; then stale+=("$pid"); fi
  done
  [ ${#stale[@]} -gt 0 ] || return 0
  say "podman API service ${stale[*]} runs in a deleted folder ($(readlink "/proc/${stale[0]}/cwd" 2>/dev/null)): replacing it"
  kill -TERM "${stale[@]}" 2>/dev/null || true
  for _ in $(seq 1 50); do
    local alive=0
    for pid in "${stale[@]}"; do if kill -0 "$pid" 2>/dev/null; then alive=1; fi; done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  kill -KILL "${stale[@]}" 2>/dev/null || true
  rm -f "$SOCK"
}

replace_stale_service

if ! answers; then
  mkdir -p "$(dirname "$SOCK")"
  rm -f "$SOCK"
  # From / : a folder that stays, whatever happens to the clone that ran this (issue 19).
  # setsid + nohup: the service outlives this shell and the test run that started it.
  (cd / && setsid nohup podman system service --time=0 "unix://$SOCK" >>"$LOG" 2>&1 </dev/null &)
  for _ in $(seq 1 50); do
    if answers; then break; fi
    sleep 0.2
  done
  if ! answers; then
    say "podman system service did not answer on $SOCK; see $LOG"
    exit 1
  fi
  say "podman API on unix://$SOCK"
fi

clean_stale_forwards
