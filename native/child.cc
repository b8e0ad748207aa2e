// Child side of clone(CLONE_VM | CLONE_VFORK): runs on a private stack in the parent's
// memory until execve. Only async-signal-safe work happens here, and nothing that
// allocates, locks or touches state another thread could hold.
//
// Calls made here, and nothing else:
//   sigaction, sigprocmask, close_range (raw syscall), setpgid or setsid, prctl(PR_SET_PDEATHSIG), getppid, write,
//   sched_setaffinity, set_mempolicy (raw syscall), chdir, open, dup2, fcntl, close,
//   prlimit64 (raw syscall), close_range (raw syscall), sched_setscheduler, execve, _exit.
#include "child.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <sched.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace proclaunch {
namespace {

constexpr int kMpolBind = 2;  // MPOL_BIND from <linux/mempolicy.h>

[[noreturn]] void FailChild(const ChildPlan* plan, ChildStage stage, int err) {
  volatile ChildError* record = plan->error;
  record->err = err;
  record->stage = stage;
  _exit(127);
}

// The child must not run the parent's signal handlers (it shares their memory) and
// must start with default dispositions: ignored signals survive execve otherwise
// (Node ignores SIGPIPE, which would leak into every child). Only standard signals
// 1..31 are reset, as DESIGN.md says: Node and libuv never ignore or catch real-time
// ones, and a real-time signal could only reach us in the instant between unblocking
// and execve from someone who already knows a pid nobody has been told yet. This
// saves 33 syscalls per launch.
void ResetSignalDispositions() {
  struct sigaction dfl = {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < 32; sig++) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    sigaction(sig, &dfl, nullptr);
  }
}

// execve each candidate like execvp does: keep going on "not here", remember EACCES.
int ExecCandidates(const ChildPlan* plan) {
  bool saw_eacces = false;
  int last = ENOENT;
  for (char* const* path = plan->exec_paths; *path != nullptr; path++) {
    execve(*path, plan->argv, plan->envp);
    last = errno;
    if (last == EACCES) {
      saw_eacces = true;
    } else if (last != ENOENT && last != ENOTDIR && last != ESTALE) {
      return last;
    }
  }
  return saw_eacces ? EACCES : last;
}

}  // namespace

int RunChild(void* arg) {
  const ChildPlan* plan = static_cast<const ChildPlan*>(arg);
  // All signals stay blocked (the parent blocked them around clone) until the
  // dispositions are back to default.
  ResetSignalDispositions();

  // The proc must not inherit the spawn server's SCHED_BATCH (an unprivileged thread may
  // always switch between SCHED_BATCH and SCHED_OTHER, so this cannot fail).
  if (plan->reset_scheduler) {
    sched_param normal = {};
    sched_setscheduler(0, SCHED_OTHER, &normal);
  }

  // We share the parent's fd table (CLONE_FILES): take a private copy of only the
  // low fds we need. Copying the whole table, as fork or a plain clone does, costs
  // time in proportion to the parent's open fds (a pidfd per supervised proc), and
  // execve would then close them all again.
  if (syscall(SYS_close_range, static_cast<unsigned>(plan->unshare_from), ~0U, CLOSE_RANGE_UNSHARE) < 0) {
    FailChild(plan, kStageCloseRange, errno);
  }

  // Its own process group, so signals reach the whole tree with kill(-pid). A new
  // session only when asked: on a CONFIG_SCHED_AUTOGROUP kernel setsid() also makes a
  // new scheduler autogroup (~1.4 ms here, against ~0.1 ms for setpgid), and the vfork
  // parent, the event loop, waits for it.
  if (plan->new_session) {
    if (setsid() < 0) FailChild(plan, kStageSetsid, errno);
  } else if (setpgid(0, 0) < 0) {
    FailChild(plan, kStageSetpgid, errno);
  }

  if (plan->parent_death_signal != 0) {
    if (prctl(PR_SET_PDEATHSIG, plan->parent_death_signal) < 0) {
      FailChild(plan, kStageParentDeathSignal, errno);
    }
    // The parent may have died before prctl: then nobody would ever signal us.
    if (getppid() != plan->parent_pid) _exit(127);
  }

  if (plan->cgroup_procs_fd >= 0) {
    if (write(plan->cgroup_procs_fd, "0", 1) < 0) FailChild(plan, kStageCgroup, errno);
  }

  if (plan->set_affinity && sched_setaffinity(0, sizeof plan->affinity, &plan->affinity) < 0) {
    FailChild(plan, kStageAffinity, errno);
  }

  if (plan->set_membind &&
      syscall(SYS_set_mempolicy, kMpolBind, plan->membind_mask,
              sizeof plan->membind_mask * 8) < 0) {
    FailChild(plan, kStageMembind, errno);
  }

  if (plan->cwd != nullptr && chdir(plan->cwd) < 0) FailChild(plan, kStageChdir, errno);

  if (plan->stdin_mode == kStdinPipe) {
    if (dup2(plan->stdin_fd, 0) < 0) FailChild(plan, kStageStdin, errno);
  } else if (plan->stdin_mode == kStdinInherit) {
    fcntl(0, F_SETFD, 0);  // as for 1 and 2 below: keep it across execve
  } else {
    int null_fd = open("/dev/null", O_RDWR);
    if (null_fd < 0) FailChild(plan, kStageStdin, errno);
    if (null_fd != 0) {
      if (dup2(null_fd, 0) < 0) FailChild(plan, kStageStdin, errno);
      if (null_fd > 2) close(null_fd);
    }
  }
  // dup2 clears FD_CLOEXEC on the target. An inherited 1 or 2 may carry it (Node
  // sets it on its own stdio), and would then be closed by execve: clear it.
  for (int target = 1; target <= 2; target++) {
    int source = target == 1 ? plan->stdout_fd : plan->stderr_fd;
    if (source >= 0) {
      if (dup2(source, target) < 0) FailChild(plan, kStageStdio, errno);
    } else {
      fcntl(target, F_SETFD, 0);  // EBADF when the parent has it closed: nothing to keep
    }
  }

  // Only the spawn server is started with one (its request socket).
  int first_closed = 3;
  if (plan->fd3_source > 0) {
    if (plan->fd3_source == 3) {
      fcntl(3, F_SETFD, 0);
    } else if (dup2(plan->fd3_source, 3) < 0) {
      FailChild(plan, kStageStdio, errno);
    }
    first_closed = 4;
  }

  // Last, so a low nofile or as limit cannot break the steps above.
  for (int i = 0; i < plan->rlimit_count; i++) {
    struct { uint64_t soft, hard; } limit = {plan->rlimits[i].soft, plan->rlimits[i].hard};  // the kernel's rlimit64
    if (syscall(SYS_prlimit64, 0, plan->rlimits[i].resource, &limit, nullptr) < 0) {
      FailChild(plan, kStageRlimit, errno);
    }
  }

  // What is left above stderr (the pipe ends we dup'd, fds of the parent below them)
  // closes at exec.
  if (syscall(SYS_close_range, static_cast<unsigned>(first_closed), ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
    FailChild(plan, kStageCloseRange, errno);
  }

  sigset_t empty;
  sigemptyset(&empty);
  sigprocmask(SIG_SETMASK, &empty, nullptr);

  FailChild(plan, kStageExec, ExecCandidates(plan));
}

}  // namespace proclaunch
