// Exit monitoring: a uv_poll on each pidfd in the environment's own loop.
#pragma once

#include <sys/types.h>
#include <uv.h>

#include "addon_state.h"

namespace proclaunch {

struct Watch {
  uv_poll_t poll;
  AddonState* state;
  uint32_t id;
  pid_t pid;
  int pidfd;
  bool kill_group_on_exit;
  bool kill_on_teardown;  // false: the proc outlives the environment (parentDeathSignal: false)
};

// Starts watching a freshly spawned proc. Returns the watch id, or 0 with errno set.
uint32_t StartWatch(AddonState* state, pid_t pid, int pidfd, bool kill_group_on_exit,
                    bool kill_on_teardown);

// SIGKILLs every watched proc marked kill_on_teardown and its group, reaps it, and
// closes every watch handle, without calling into JS. Used on environment teardown
// (worker exit, process exit). Returns how many procs it killed.
int KillAndReapAll(AddonState* state);

}  // namespace proclaunch
