#include "clone_child.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <unistd.h>

#include "clone3.h"

namespace proclaunch {
namespace {

struct StageInfo {
  const char* stage;
  const char* syscall;
};

const StageInfo kStages[] = {
    {"unknown", "unknown"},
    {"setsid", "setsid"},
    {"parent-death-signal", "prctl"},
    {"cgroup", "write"},
    {"affinity", "sched_setaffinity"},
    {"membind", "set_mempolicy"},
    {"chdir", "chdir"},
    {"stdin", "open"},
    {"stdio", "dup2"},
    {"close-range", "close_range"},
    {"exec", "execve"},
    {"rlimit", "prlimit"},
    {"setpgid", "setpgid"},
};

}  // namespace

void DescribeStage(int32_t stage, const char** stage_name, const char** syscall_name) {
  if (stage == kStageCgroupOpen) {
    *stage_name = "cgroup";
    *syscall_name = "open";
    return;
  }
  if (stage < 0 || stage >= static_cast<int32_t>(sizeof kStages / sizeof kStages[0])) stage = 0;
  *stage_name = kStages[stage].stage;
  *syscall_name = kStages[stage].syscall;
}

pid_t CloneChild(ChildPlan& plan, void* stack, int cgroup_fd, unsigned long extra_flags, int* pidfd,
                 int* err, const char** syscall_name) {
  const unsigned long flags = CLONE_VM | CLONE_VFORK | CLONE_PIDFD | CLONE_FILES | extra_flags;
  if (cgroup_fd >= 0 && HaveClone3Trampoline()) {
    clone_args args = {};
    args.flags = flags | CLONE_INTO_CGROUP;
    args.pidfd = reinterpret_cast<uint64_t>(pidfd);
    // With CLONE_PARENT the kernel wants 0 here and gives the child the caller's own
    // exit signal (SIGCHLD: the caller was started with it).
    args.exit_signal = (extra_flags & CLONE_PARENT) != 0 ? 0 : SIGCHLD;
    args.stack = reinterpret_cast<uint64_t>(stack);
    args.stack_size = kChildStackSize;
    args.cgroup = static_cast<uint64_t>(cgroup_fd);
    long r = Clone3WithFunction(&args, sizeof args, RunChild, &plan);
    if (r > 0) return static_cast<pid_t>(r);
    if (r != -ENOSYS && r != -E2BIG) {
      *err = static_cast<int>(-r);
      *syscall_name = "clone3";
      return -1;
    }
  }
  if (cgroup_fd >= 0) {
    plan.cgroup_procs_fd = openat(cgroup_fd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
    if (plan.cgroup_procs_fd < 0) {
      *err = errno;
      *syscall_name = "open";
      return -1;
    }
  }
  if (plan.cgroup_procs_fd >= plan.unshare_from) plan.unshare_from = plan.cgroup_procs_fd + 1;
  pid_t pid = clone(RunChild, static_cast<char*>(stack) + kChildStackSize, static_cast<int>(flags | SIGCHLD),
                    &plan, pidfd);
  if (pid < 0) {
    *err = errno;
    *syscall_name = "clone";
  }
  if (plan.cgroup_procs_fd >= 0) close(plan.cgroup_procs_fd);
  plan.cgroup_procs_fd = -1;
  return pid;
}

}  // namespace proclaunch
