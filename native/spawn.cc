#include "spawn.h"

#include "clone_child.h"

#include <errno.h>
#include <linux/sched.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace proclaunch {
namespace {

// One stack per spawning thread (main or worker), never shared: with CLONE_VFORK the
// thread is suspended while its child runs, so one stack per thread is enough.
void* ThreadChildStack() {
  thread_local void* stack = nullptr;
  if (stack == nullptr) {
    void* mem = mmap(nullptr, kChildStackSize, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (mem == MAP_FAILED) return nullptr;
    stack = mem;
  }
  return stack;
}

void CloseIfOpen(int& fd) {
  if (fd >= 0) close(fd);
  fd = -1;
}

SpawnOutcome ParentFailure(const char* stage, const char* syscall_name, int err) {
  SpawnOutcome out;
  out.failed_stage = stage;
  out.failed_syscall = syscall_name;
  out.err = err;
  return out;
}

}  // namespace

SpawnOutcome SpawnProc(SpawnRequest& request) {
  ChildPlan& plan = request.plan;
  ChildError record{};
  int out_pipe[2] = {-1, -1};
  int err_pipe[2] = {-1, -1};
  int in_pipe[2] = {-1, -1};
  auto close_pipes = [&]() {
    CloseIfOpen(out_pipe[0]); CloseIfOpen(out_pipe[1]);
    CloseIfOpen(err_pipe[0]); CloseIfOpen(err_pipe[1]);
    CloseIfOpen(in_pipe[0]); CloseIfOpen(in_pipe[1]);
  };
  if (request.capture_stdio) {
    if (pipe2(out_pipe, O_CLOEXEC) < 0 || pipe2(err_pipe, O_CLOEXEC) < 0) {
      int saved = errno;
      close_pipes();
      return ParentFailure("pipe", "pipe2", saved);
    }
  }
  if (plan.stdin_mode == kStdinPipe && pipe2(in_pipe, O_CLOEXEC) < 0) {
    int saved = errno;
    close_pipes();
    return ParentFailure("pipe", "pipe2", saved);
  }
  plan.stdin_fd = in_pipe[0];
  plan.error = &record;
  plan.stdout_fd = out_pipe[1];
  plan.stderr_fd = err_pipe[1];
  plan.parent_pid = getpid();
  // The child keeps fds below this one from our table (0-2 and its pipe ends).
  plan.unshare_from = 3;
  if (out_pipe[1] >= plan.unshare_from) plan.unshare_from = out_pipe[1] + 1;
  if (err_pipe[1] >= plan.unshare_from) plan.unshare_from = err_pipe[1] + 1;
  if (in_pipe[0] >= plan.unshare_from) plan.unshare_from = in_pipe[0] + 1;
  if (plan.fd3_source >= plan.unshare_from) plan.unshare_from = plan.fd3_source + 1;

  void* stack = ThreadChildStack();
  if (stack == nullptr) {
    int saved = errno;
    close_pipes();
    return ParentFailure("stack", "mmap", saved);
  }

  int cgroup_fd = -1;
  if (request.cgroup_path != nullptr) {
    cgroup_fd = open(request.cgroup_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (cgroup_fd < 0) {
      int saved = errno;
      close_pipes();
      return ParentFailure("cgroup", "open", saved);
    }
  }

  // No signal handler may run in the child while it shares our memory.
  sigset_t all, previous;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &previous);
  int pidfd = -1;
  int clone_errno = 0;
  const char* clone_syscall = "clone";
  pid_t pid = CloneChild(plan, stack, cgroup_fd, 0, &pidfd, &clone_errno, &clone_syscall);
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  CloseIfOpen(cgroup_fd);

  CloseIfOpen(out_pipe[1]);
  CloseIfOpen(err_pipe[1]);
  CloseIfOpen(in_pipe[0]);

  if (pid < 0) {
    close_pipes();
    return ParentFailure("clone", clone_syscall, clone_errno);
  }

  // CLONE_VFORK: we run again only after the child exec'd (record untouched) or wrote
  // its failure record and exited. No pipe is needed: the record is shared memory.
  if (__atomic_load_n(&record.stage, __ATOMIC_ACQUIRE) != 0) {
    // Reap the failed child now: a failed launch leaves no zombie and no fd.
    siginfo_t info;
    while (syscall(SYS_waitid, P_PIDFD, pidfd, &info, WEXITED, nullptr) < 0 && errno == EINTR) {
    }
    close(pidfd);
    close_pipes();
    const char* stage_name;
    const char* syscall_name;
    DescribeStage(record.stage, &stage_name, &syscall_name);
    return ParentFailure(stage_name, syscall_name, record.err);
  }

  SpawnOutcome out;
  out.pid = pid;
  out.pidfd = pidfd;
  out.stdout_fd = out_pipe[0];
  out.stderr_fd = err_pipe[0];
  out.stdin_fd = in_pipe[1];
  return out;
}

}  // namespace proclaunch
