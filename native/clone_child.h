// clone() of a vfork child that runs RunChild: shared by the addon's in-process spawn
// (spawn.cc) and the spawn server (spawner.cc), so both start children the same way.
#pragma once

#include <stddef.h>
#include <sys/types.h>

#include "child.h"

namespace proclaunch {

// The child runs only the short RunChild frame plus libc wrappers on its stack.
constexpr size_t kChildStackSize = 64 * 1024;

// Stage codes beyond ChildStage for failures before the child runs.
enum ParentStage : int32_t {
  kStageClone = 100,      // clone or clone3 failed (syscall_name tells which)
  kStageCgroupOpen = 101, // the cgroup directory or its cgroup.procs could not be opened
};

// Starts the child on `stack` (kChildStackSize bytes) with CLONE_VM | CLONE_VFORK |
// CLONE_PIDFD | CLONE_FILES | extra_flags. With cgroup_fd >= 0, clone3(CLONE_INTO_CGROUP)
// puts it there atomically; where clone3 is unavailable the child moves itself
// (cgroup.procs) before exec. Call with every signal blocked. Returns the pid, or -1
// with *err and *syscall_name set.
pid_t CloneChild(ChildPlan& plan, void* stack, int cgroup_fd, unsigned long extra_flags, int* pidfd,
                 int* err, const char** syscall_name);

// The stage and syscall names of a ChildStage or ParentStage code ("unknown" otherwise).
void DescribeStage(int32_t stage, const char** stage_name, const char** syscall_name);

}  // namespace proclaunch
