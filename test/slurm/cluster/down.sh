#!/bin/bash
# Take down the cluster that up.sh brought up in RUN_DIR, and only it:
#   bash test/slurm/cluster/down.sh RUN_DIR
# Cancels its jobs, stops the daemons up.sh started (by recorded pid), SIGKILLs whatever
# is still inside ITS network namespaces (slurmstepd, tasks, a forgotten srun), stops its
# munged, deletes its namespaces and /etc/netns entries, then RUN_DIR. Safe to run twice,
# and after a bring-up that failed half way.
set -uo pipefail
[ $# -eq 1 ] || { echo "usage: $0 RUN_DIR" >&2; exit 2; }
[ -d "$1" ] || { echo "down.sh: nothing to do ($1 missing)"; exit 0; }
RUN=$(cd "$1" && pwd -P)
[ -e "$RUN/netns.list" ] || [ -d "$RUN/pids" ] || { echo "down.sh: $RUN holds no cluster; left as it is" >&2; exit 1; }

# Cancel the remaining jobs first (their leftovers are killed below anyway).
if [ -x "$RUN/bin/sl" ] && [ -f "$RUN/prefix" ] && [ -e "/run/netns/$(cat "$RUN/prefix")-ctl" ] \
   && [ -f "$RUN/pids/slurmctld" ] && kill -0 "$(cat "$RUN/pids/slurmctld")" 2>/dev/null; then
  "$RUN/bin/sl" timeout 15 scancel --full --quiet --state=PENDING,RUNNING,SUSPENDED -u root 2>/dev/null || true
fi
stoppids() { # pid...: TERM to all, then KILL whatever is left after 5 s
  local p deadline=$((SECONDS + 5)) left
  for p in "$@"; do kill -TERM "$p" 2>/dev/null; done
  while :; do
    left=""; for p in "$@"; do kill -0 "$p" 2>/dev/null && left="$left $p"; done
    [ -n "$left" ] || return 0
    [ $SECONDS -lt $deadline ] || { for p in $left; do kill -KILL "$p" 2>/dev/null; done; return 0; }
    sleep 0.1
  done
}
daemons=""
for f in "$RUN"/pids/slurmd-* "$RUN/pids/slurmctld"; do [ -f "$f" ] && daemons="$daemons $(cat "$f")"; done
[ -z "$daemons" ] || { stoppids $daemons; echo "down.sh: stopped slurmctld and slurmd ($daemons )"; }
# Processes still inside our namespaces (slurmstepd, tasks, an srun on the login node).
# One pass over /proc: find prints each process's netns link, e.g. "/proc/42/ns net:[4026532246]".
if [ -e "$RUN/netns.list" ]; then
  inos=" "
  for ns in $(cat "$RUN/netns.list"); do
    [ -e "/run/netns/$ns" ] && inos="$inos$(stat -L -c %i "/run/netns/$ns") "
  done
  self=$(stat -L -c %i /proc/self/ns/net)
  case "$inos" in *" $self "*) echo "down.sh: run me from outside the cluster's namespaces" >&2; exit 1;; esac
  find /proc/[0-9]*/ns/net -maxdepth 0 -printf '%h %l\n' 2>/dev/null | while read -r dir link; do
    p=${dir#/proc/}; p=${p%/ns}; ino=${link#net:[}; ino=${ino%]}
    [ "$p" = "$$" ] && continue
    case "$inos" in *" $ino "*) ;; *) continue;; esac
    echo "down.sh: killing leftover pid $p ($(cat "/proc/$p/comm" 2>/dev/null))"; kill -KILL "$p" 2>/dev/null || true
  done
fi
[ -f "$RUN/pids/munged" ] && { stoppids "$(cat "$RUN/pids/munged")"; echo "down.sh: stopped munged"; }
if [ -e "$RUN/netns.list" ]; then
  for ns in $(tac "$RUN/netns.list"); do
    ip netns del "$ns" 2>/dev/null && echo "down.sh: deleted netns $ns"
    rm -rf "/etc/netns/$ns"
  done
fi
rmdir /etc/netns 2>/dev/null || true
rm -rf "$RUN"
echo "down.sh: down"
