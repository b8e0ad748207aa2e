#!/usr/bin/env bash
# A real `systemd --user` manager, with its own D-Bus user bus, for the systemd
# backend's tests on a machine whose PID 1 is not systemd. Needs root.
#
#   test/systemd/user-manager.sh up RUNTIME_DIR      start it in the background, wait until it
#                                                    answers, print `export` lines for eval
#   test/systemd/user-manager.sh start RUNTIME_DIR   the same manager in the foreground (the
#                                                    test suite runs this as its own child)
#   test/systemd/user-manager.sh ready RUNTIME_DIR   wait until the manager answers on the bus
#   test/systemd/user-manager.sh down RUNTIME_DIR    stop it, kill and remove its cgroup, and
#                                                    remove RUNTIME_DIR and its files
#
# RUNTIME_DIR is a fresh directory under /run or /tmp that becomes XDG_RUNTIME_DIR: the bus
# socket is RUNTIME_DIR/bus. The cgroup is proclaunch-test-systemd-<name of RUNTIME_DIR
# without a leading "proclaunch-test-">, so managers of concurrent test runs never share one.
#
# Why it looks like this (each point was learnt the hard way):
# - systemd takes the cgroup it starts in as its root and moves every process of that
#   cgroup into <root>/init.scope. Started from the root cgroup it would move the whole
#   machine, PID 1 included. So the shell that execs systemd first enters a fresh child
#   cgroup of the cgroup2 hierarchy; nothing else is ever in it.
# - A user manager refuses to run unless /run/systemd/system exists, and that directory
#   must not appear on the host (tools would think systemd is PID 1). So systemd runs in
#   a private mount namespace with a tmpfs on /run/systemd. On a hybrid host a plain
#   cgroup2 is mounted over /sys/fs/cgroup there, so systemd sees a pure cgroup2 tree and
#   never touches the host's v1 hierarchies. No `nsdelegate`: cgroup2 mount options are
#   shared with the host's mount.
# - The manager only joins a user bus that its own dbus.socket/dbus.service units run
#   (dbus-user-session ships them; without it we write equivalents inside the namespace).
# - A user manager logs to /dev/console: `script` gives it a pty bound over /dev/console,
#   and the log lands in RUNTIME_DIR.log. There is no journald, so units inherit stdio
#   from the manager instead of trying the journal socket.
set -euo pipefail

command=${1:-}
runtime_dir=${2:-}
if [[ -z "$command" || -z "$runtime_dir" || "$runtime_dir" != /* ]]; then
  echo "usage: $0 up|start|ready|down ABSOLUTE_RUNTIME_DIR" >&2
  exit 2
fi
runtime_dir=${runtime_dir%/}
runtime_name=$(basename "$runtime_dir")
cgroup_name="proclaunch-test-systemd-${runtime_name#proclaunch-test-}"
log_file="$runtime_dir.log"

# The cgroup2 hierarchy: pure cgroup2, or the unified part of a hybrid host.
cgroup2_root() {
  if [[ "$(stat -fc %T /sys/fs/cgroup)" == cgroup2fs ]]; then echo /sys/fs/cgroup
  elif [[ "$(stat -fc %T /sys/fs/cgroup/unified 2>/dev/null)" == cgroup2fs ]]; then echo /sys/fs/cgroup/unified
  else echo ""; fi
}

start_manager() {
  if [[ $(id -u) -ne 0 ]]; then echo "user-manager.sh: needs root (mount namespace, cgroups)" >&2; exit 1; fi
  local cg2
  cg2=$(cgroup2_root)
  if [[ -z "$cg2" ]]; then echo "user-manager.sh: no cgroup2 hierarchy mounted" >&2; exit 1; fi
  mkdir -p "$runtime_dir"
  chmod 700 "$runtime_dir"
  mkdir "$cg2/$cgroup_name"
  local write_dbus_units=""
  [[ -e /usr/lib/systemd/user/dbus.socket ]] || write_dbus_units=1

  # Runs inside the new mount namespace, already in the new cgroup.
  local inside='
    set -e
    mount -t tmpfs -o mode=755 tmpfs /run/systemd
    mkdir -p /run/systemd/system /run/systemd/user
    if [ -n "$WRITE_DBUS_UNITS" ]; then
      printf "[Socket]\nListenStream=%%t/bus\n" > /run/systemd/user/dbus.socket
      printf "[Unit]\nRequires=dbus.socket\n[Service]\nType=notify\nNotifyAccess=main\nExecStart=/usr/bin/dbus-daemon --session --address=systemd: --nofork --nopidfile --systemd-activation --syslog-only\n" > /run/systemd/user/dbus.service
      mkdir -p /run/systemd/user/sockets.target.wants
      ln -sf ../dbus.socket /run/systemd/user/sockets.target.wants/dbus.socket
    fi
    if [ "$(stat -fc %T /sys/fs/cgroup)" != cgroup2fs ]; then mount -t cgroup2 cgroup2 /sys/fs/cgroup; fi
    exec script -qfec "mount --bind \$(tty) /dev/console && exec /lib/systemd/systemd --user --log-level=info --default-standard-output=inherit --default-standard-error=inherit" "$LOG_FILE"
  '
  # Enter the cgroup first (the shell is alone in it), then the namespace, then systemd.
  exec env -u DBUS_SESSION_BUS_ADDRESS -u NOTIFY_SOCKET XDG_RUNTIME_DIR="$runtime_dir" \
    WRITE_DBUS_UNITS="$write_dbus_units" LOG_FILE="$log_file" CGROUP_PROCS="$cg2/$cgroup_name/cgroup.procs" \
    setsid bash -c 'echo $$ > "$CGROUP_PROCS" && exec unshare --mount --propagation private bash -c "$0"' "$inside" \
    </dev/null >/dev/null 2>&1
}

wait_ready() {
  local state="" deadline
  # Bounded by wall time, not by a count of tries: on a loaded machine each systemctl or
  # busctl call can itself take a second (30 s each, then the log tells why).
  deadline=$((SECONDS + 30))
  # Ready when the manager says running/degraded on its private socket...
  while ((SECONDS < deadline)); do
    state=$(XDG_RUNTIME_DIR="$runtime_dir" systemctl --user show -p SystemState --value 2>/dev/null || true)
    [[ "$state" == running || "$state" == degraded ]] && break
    sleep 0.05
  done
  if [[ "$state" != running && "$state" != degraded ]]; then
    echo "user-manager.sh: systemd --user did not come up (state '${state}'); last lines of $log_file:" >&2
    tail -n 20 "$log_file" >&2 2>/dev/null || true
    exit 1
  fi
  # ...and owns its name on the user bus (the first client socket-activates dbus-daemon).
  deadline=$((SECONDS + 30))
  while ((SECONDS < deadline)); do
    if XDG_RUNTIME_DIR="$runtime_dir" DBUS_SESSION_BUS_ADDRESS="unix:path=$runtime_dir/bus" busctl --user call org.freedesktop.DBus /org/freedesktop/DBus \
      org.freedesktop.DBus GetNameOwner s org.freedesktop.systemd1 >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.05
  done
  echo "user-manager.sh: systemd --user runs but never joined the bus at $runtime_dir/bus; last lines of $log_file:" >&2
  tail -n 20 "$log_file" >&2 2>/dev/null || true
  exit 1
}

stop_manager() {
  local cg2 i
  cg2=$(cgroup2_root)
  # Stops every unit, then the manager exits (and with it `script` and the namespace).
  XDG_RUNTIME_DIR="$runtime_dir" timeout 10 systemctl --user exit >/dev/null 2>&1 || true
  # Wait until the cgroup is empty: killing it earlier would kill `script`, systemd and
  # dbus-daemon at once, and whoever dies before its child leaves that child a zombie.
  if [[ -n "$cg2" && -e "$cg2/$cgroup_name/cgroup.events" ]]; then
    for i in $(seq 1 200); do
      grep -q '^populated 0' "$cg2/$cgroup_name/cgroup.events" 2>/dev/null && break
      sleep 0.05
    done
  fi
  # Whatever is left (a hung manager, a stray unit process) dies with the cgroup.
  if [[ -n "$cg2" && -d "$cg2/$cgroup_name" ]]; then
    [[ -e "$cg2/$cgroup_name/cgroup.kill" ]] && echo 1 > "$cg2/$cgroup_name/cgroup.kill"
    for i in $(seq 1 100); do
      find "$cg2/$cgroup_name" -depth -type d -exec rmdir {} \; 2>/dev/null || true
      [[ -d "$cg2/$cgroup_name" ]] || break
      sleep 0.05
    done
  fi
  rm -rf "$runtime_dir"
  rm -f "$log_file"
  if [[ -n "$cg2" && -d "$cg2/$cgroup_name" ]]; then
    echo "user-manager.sh: cgroup $cg2/$cgroup_name could not be removed" >&2
    exit 1
  fi
}

case "$command" in
  start) start_manager ;;
  ready) wait_ready ;;
  up)
    "$0" start "$runtime_dir" &
    wait_ready
    echo "export XDG_RUNTIME_DIR=$runtime_dir"
    echo "export DBUS_SESSION_BUS_ADDRESS=unix:path=$runtime_dir/bus"
    ;;
  down) stop_manager ;;
  *) echo "usage: $0 up|start|ready|down ABSOLUTE_RUNTIME_DIR" >&2; exit 2 ;;
esac
