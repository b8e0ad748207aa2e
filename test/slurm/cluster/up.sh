#!/bin/bash
# Bring up a private 3-node Slurm cluster on this machine (Debian slurm-wlm >= 22.05).
#
#   bash test/slurm/cluster/up.sh RUN_DIR
#
# Everything lives under RUN_DIR (munge key and socket, state, spool, logs, pids) and in
# network namespaces named after a short prefix derived from RUN_DIR, so several clusters
# can run at once:
#   <prefix>-hub    bridge br0 (one veth per host; nothing in the root netns)
#   <prefix>-ctl    slurmctld, 10.200.0.1, hostname ctl; the "login node" for clients
#   <prefix>-nodeN  slurmd, 10.200.0.1N, hostname nodeN (N = 1..3)
# Addresses exist only inside these namespaces: no traffic leaves the machine.
#
# Writes RUN_DIR/bin/sl (run a command on the login node: `RUN_DIR/bin/sl srun -N3 hostname`)
# and RUN_DIR/env; prints the same `export NAME=value` lines on stdout (progress goes to
# stderr), so `eval "$(bash up.sh RUN_DIR)"` works. Take it down with down.sh RUN_DIR,
# which a failed bring-up also runs itself. Needs root and: munge slurmctld slurmd slurm-client.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
[ $# -eq 1 ] || { echo "usage: $0 RUN_DIR" >&2; exit 2; }
NODES="node1 node2 node3"
NET=10.200.0
T0=$(date +%s.%N)

[ "$(id -u)" = 0 ] || { echo "up.sh: needs root (network namespaces)" >&2; exit 1; }
for b in munged munge unmunge slurmctld slurmd srun sinfo scontrol ip nsenter unshare sha1sum; do
  command -v "$b" >/dev/null || { echo "up.sh: missing $b (apt-get install -y munge slurmctld slurmd slurm-client)" >&2; exit 1; }
done
mkdir -p "$1"
RUN=$(cd "$1" && pwd -P)
if [ -e "$RUN/netns.list" ]; then echo "up.sh: $RUN already holds a cluster: run down.sh first" >&2; exit 1; fi
# Why a hash: netns and cluster names must be short and unique per run directory.
PREFIX=sl$(printf '%s' "$RUN" | sha1sum | cut -c1-6)
for n in hub ctl $NODES; do
  if [ -e "/run/netns/$PREFIX-$n" ]; then echo "up.sh: netns $PREFIX-$n exists already" >&2; exit 1; fi
done

# From here on a failure takes down whatever was brought up.
trap 'rc=$?; if [ $rc -ne 0 ]; then echo "up.sh: failed (rc=$rc), taking the cluster down" >&2;
      for f in "$RUN"/log/*.log "$RUN"/log/*.stdout; do [ -s "$f" ] && { echo "== $f" >&2; tail -n 5 "$f" >&2; }; done
      bash "$HERE/down.sh" "$RUN" >&2 || true; fi' EXIT

mkdir -p "$RUN"/{munge,log,ctld-state,spool,pids,bin,etc}
chmod 700 "$RUN/munge"
: > "$RUN/netns.list"
echo "$PREFIX" > "$RUN/prefix"

# ---- config ---------------------------------------------------------------
CONF=$RUN/etc/slurm.conf
sed -e "s#@RUN@#$RUN#g" -e "s#@PREFIX@#$PREFIX#g" "$HERE/slurm.conf.in" > "$CONF"
for n in $NODES; do mkdir -p "$RUN/spool/$n"; done

# ---- munge: own key, own socket (never /etc/munge or /run/munge) ------------
dd if=/dev/urandom of="$RUN/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$RUN/munge/munge.key"
munged --force \
  --socket="$RUN/munge/munge.sock" --key-file="$RUN/munge/munge.key" \
  --pid-file="$RUN/munge/munged.pid" --log-file="$RUN/log/munged.log" \
  --seed-file="$RUN/munge/munged.seed"
# munged daemonizes: its pid file is written once it serves the socket.
deadline=$((SECONDS + 20))
until [ -S "$RUN/munge/munge.sock" ] && [ -s "$RUN/munge/munged.pid" ]; do
  [ $SECONDS -lt $deadline ] || { echo "up.sh: munged did not come up" >&2; exit 1; }
  sleep 0.1
done
cp "$RUN/munge/munged.pid" "$RUN/pids/munged"
munge -S "$RUN/munge/munge.sock" -n | unmunge -S "$RUN/munge/munge.sock" >/dev/null

# ---- network: a bridge in its own netns, one veth per host -----------------
hosts_text="127.0.0.1 localhost
$NET.1 ctl login"
i=0; for n in $NODES; do i=$((i+1)); hosts_text="$hosts_text
$NET.$((10+i)) $n"; done

addns() { # ns: create it and record it (and its /etc/netns dir) for down.sh
  ip netns add "$1"; echo "$1" >> "$RUN/netns.list"
}
hub=$PREFIX-hub
addns "$hub"
ip -n "$hub" link set lo up
ip -n "$hub" link add br0 type bridge
ip -n "$hub" link set br0 up
addhost() { # name addr
  local ns=$PREFIX-$1
  addns "$ns"
  # The veth's hub end lives in this cluster's hub netns, so its name need only be unique there.
  ip -n "$hub" link add "h-$1" type veth peer name eth0 netns "$ns"
  ip -n "$hub" link set "h-$1" master br0 up
  ip -n "$ns" link set lo up
  ip -n "$ns" addr add "$2/24" dev eth0
  ip -n "$ns" link set eth0 up
  mkdir -p "/etc/netns/$ns"; printf '%s\n' "$hosts_text" > "/etc/netns/$ns/hosts"
}
addhost ctl "$NET.1"
i=0; for n in $NODES; do i=$((i+1)); addhost "$n" "$NET.$((10+i))"; done

# ---- wrappers ---------------------------------------------------------------
# Why not `ip netns exec`: it remounts /sys, which hides /sys/fs/cgroup, and slurmd
# 22.05 refuses to start without it (it always initialises its cgroup plugin).
cat > "$RUN/bin/innet" <<'W'
#!/bin/sh
# innet NS HOSTNAME CMD...: run CMD in netns NS, a new UTS namespace (hostname HOSTNAME)
# and a private mount namespace where /etc/netns/NS/hosts is /etc/hosts.
ns=$1 h=$2; shift 2
exec nsenter --net=/run/netns/$ns unshare --uts --mount --propagation private \
  sh -c 'hostname "$0" && mount --bind "/etc/netns/$1/hosts" /etc/hosts && shift && exec "$@"' "$h" "$ns" "$@"
W
cat > "$RUN/env" <<W
export SLURM_CONF=$CONF
export PROCLAUNCH_SLURM_RUN=$RUN
export PROCLAUNCH_SLURM_PREFIX=$PREFIX
W
cat > "$RUN/bin/sl" <<W
#!/bin/sh
# Run a command "on the login node" of the cluster in $RUN (netns $PREFIX-ctl, hostname login).
. $RUN/env
exec $RUN/bin/innet $PREFIX-ctl login "\$@"
W
chmod +x "$RUN/bin/innet" "$RUN/bin/sl"

# ---- daemons, each in its netns with its own hostname ------------------------
# nsenter/unshare (without --fork) and sh all exec, so $! is the daemon's pid.
start() { # ns hostname logname cmd...
  local ns=$1 h=$2 name=$3; shift 3
  setsid "$RUN/bin/innet" "$ns" "$h" "$@" > "$RUN/log/$name.stdout" 2>&1 < /dev/null &
  echo $! > "$RUN/pids/$name"
}
alive() { kill -0 "$(cat "$RUN/pids/$1")" 2>/dev/null || { echo "up.sh: $1 died" >&2; exit 1; }; }
start "$PREFIX-ctl" ctl slurmctld slurmctld -D -i -f "$CONF"
deadline=$((SECONDS + 60))
until "$RUN/bin/sl" timeout 5 scontrol ping 2>/dev/null | grep UP >/dev/null; do
  alive slurmctld
  [ $SECONDS -lt $deadline ] || { echo "up.sh: slurmctld never answered a ping" >&2; exit 1; }
  sleep 0.1
done
for n in $NODES; do start "$PREFIX-$n" "$n" "slurmd-$n" slurmd -D -f "$CONF" -N "$n"; done

# ---- wait until every node is idle -------------------------------------------
want=$(echo $NODES | wc -w)
deadline=$((SECONDS + 90))
while :; do
  alive slurmctld; for n in $NODES; do alive "slurmd-$n"; done
  idle=$("$RUN/bin/sl" timeout 5 sinfo -h -N -o '%t' 2>/dev/null | grep -c '^idle' || true)
  [ "$idle" = "$want" ] && break
  [ $SECONDS -lt $deadline ] || { echo "up.sh: only $idle of $want nodes idle" >&2; "$RUN/bin/sl" sinfo -N >&2 || true; exit 1; }
  sleep 0.2
done
printf 'up.sh: cluster %s up in %.2fs (login node: %s)\n' "$PREFIX" "$(echo "$(date +%s.%N) - $T0" | bc)" "$RUN/bin/sl" >&2
cat "$RUN/env"
