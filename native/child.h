// Child side of the launch: the code that runs between clone() and execve().
#pragma once

#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

namespace proclaunch {

// Where a pre-exec failure happened. Indexes into kStageNames (spawn.cc).
enum ChildStage : int32_t {
  kStageSetsid = 1,
  kStageParentDeathSignal,
  kStageCgroup,
  kStageAffinity,
  kStageMembind,
  kStageChdir,
  kStageStdin,
  kStageStdio,
  kStageCloseRange,
  kStageExec,
  kStageRlimit,
  kStageSetpgid,
};

// What the child's fd 0 is.
enum StdinMode : int32_t {
  kStdinNull = 0,     // /dev/null
  kStdinInherit = 1,  // the parent's fd 0
  kStdinPipe = 2,     // the read end of a pipe (ChildPlan::stdin_fd)
};

// One resource limit to set before exec; soft/hard RLIM_INFINITY for unlimited.
struct RlimitEntry {
  int resource;
  uint64_t soft;
  uint64_t hard;
};
constexpr int kMaxRlimits = 16;

// The fixed record a failing child writes before _exit(127). It lives in the parent's
// memory (CLONE_VM), and CLONE_VFORK makes the write visible when clone returns.
struct ChildError {
  int32_t stage;  // 0: no failure (exec succeeded)
  int32_t err;
};

// Everything the child needs, prepared by the parent before clone(). The child only
// reads it: with CLONE_VM it is the parent's memory, valid until exec or _exit.
struct ChildPlan {
  char* const* exec_paths;  // candidates tried in order (PATH already resolved), null-terminated
  char* const* argv;
  char* const* envp;
  const char* cwd;          // nullptr: inherit
  int stdin_mode;           // StdinMode
  int stdin_fd;             // with kStdinPipe: the pipe's read end
  int stdout_fd;            // -1: inherit
  int stderr_fd;            // -1: inherit
  ChildError* error;        // where a failure is reported
  int unshare_from;         // first fd the child does not need from the shared table
  int cgroup_procs_fd;      // -1, or an open cgroup.procs to move into before exec
  int fd3_source;           // > 0: dup'd onto fd 3 and kept across exec (the spawn server's socket)
  int parent_death_signal;  // 0: none
  pid_t parent_pid;
  bool new_session;         // setsid() instead of setpgid(0, 0)
  bool reset_scheduler;     // back to SCHED_OTHER first (the spawn server runs as SCHED_BATCH)
  bool set_affinity;
  cpu_set_t affinity;
  bool set_membind;
  unsigned long membind_mask[16];  // bitmask of NUMA nodes, up to 1024
  int rlimit_count;
  RlimitEntry rlimits[kMaxRlimits];
};

// Entry point passed to clone(). Never returns on success (execve), _exit(127) on failure.
int RunChild(void* plan);

}  // namespace proclaunch
