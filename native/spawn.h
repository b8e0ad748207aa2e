// Parent side of the launch: clone(CLONE_VM | CLONE_VFORK | CLONE_PIDFD) + error pipe.
#pragma once

#include <sys/types.h>

#include "child.h"

namespace proclaunch {

struct SpawnRequest {
  ChildPlan plan;       // stdio and error fds are filled in by SpawnProc
  bool capture_stdio;   // pipes for stdout and stderr
  const char* cgroup_path = nullptr;  // a cgroup v2 directory to start the child in
};

struct SpawnOutcome {
  pid_t pid = -1;
  int pidfd = -1;
  int stdin_fd = -1;    // with a stdin pipe: the parent's write end, O_CLOEXEC
  int stdout_fd = -1;   // parent's read end, O_CLOEXEC
  int stderr_fd = -1;
  // On failure: stage name and errno; the child (if any) has been reaped.
  const char* failed_stage = nullptr;
  const char* failed_syscall = nullptr;
  int err = 0;
};

SpawnOutcome SpawnProc(SpawnRequest& request);

}  // namespace proclaunch
