#include "exit_watch.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace proclaunch {
namespace {

enum ExitKind { kExited = 0, kSignaled = 1 };

double TimevalMs(const timeval& tv) { return tv.tv_sec * 1000.0 + tv.tv_usec / 1000.0; }

// waitid(P_PIDFD) through the raw syscall: only the raw one returns rusage.
long WaitPidfd(int pidfd, siginfo_t* info, int options, rusage* usage) {
  long r;
  do {
    r = syscall(SYS_waitid, P_PIDFD, pidfd, info, options, usage);
  } while (r < 0 && errno == EINTR);
  return r;
}

void OnWatchClosed(uv_handle_t* handle) {
  Watch* watch = reinterpret_cast<Watch*>(handle);
  AddonState* state = watch->state;
  delete watch;
  state->HandleClosed();
}

void StopWatch(Watch* watch) {
  watch->state->watches.erase(watch->id);
  uv_poll_stop(&watch->poll);  // removes the fd from epoll: closing it is safe now
  close(watch->pidfd);
  watch->pidfd = -1;
  uv_close(reinterpret_cast<uv_handle_t*>(&watch->poll), OnWatchClosed);
}

void OnPidfdReadable(uv_poll_t* handle, int status, int /*events*/) {
  Watch* watch = reinterpret_cast<Watch*>(handle);
  AddonState* state = watch->state;
  // The leader is now a zombie and still pins its pgid: kill what is left of its
  // group before reaping, so no orphan survives and no recycled pgid can be hit.
  if (watch->kill_group_on_exit) kill(-watch->pid, SIGKILL);

  siginfo_t info = {};
  rusage usage = {};
  long r = WaitPidfd(watch->pidfd, &info, WEXITED | WNOHANG, &usage);
  // Spurious wake-up, not exited yet (libuv made the pidfd non-blocking: EAGAIN).
  if (status == 0 && ((r == 0 && info.si_pid == 0) || (r < 0 && errno == EAGAIN))) return;

  // Reaped: only surviving members of its group can pin the pgid now, so signal 0
  // tells, at the cost of one syscall, whether anything of the group was left.
  bool group_left = watch->kill_group_on_exit && r == 0 && kill(-watch->pid, 0) == 0;
  uint32_t id = watch->id;
  int kind = kExited;
  int code = 0;
  bool core = false;
  if (r < 0) {
    // Someone else reaped our child (a waitpid(-1) elsewhere in the process).
    kind = -1;
    code = errno;
  } else if (info.si_code == CLD_EXITED) {
    code = info.si_status;
  } else {
    kind = kSignaled;
    code = info.si_status;
    core = info.si_code == CLD_DUMPED;
  }
  StopWatch(watch);

  if (state->tearing_down) return;
  Napi::Env env(state->env);
  Napi::HandleScope scope(env);
  state->CallJs(state->on_exit,
                {Napi::Number::New(env, id), Napi::Number::New(env, kind),
                 Napi::Number::New(env, code), Napi::Boolean::New(env, core),
                 Napi::Number::New(env, TimevalMs(usage.ru_utime)),
                 Napi::Number::New(env, TimevalMs(usage.ru_stime)),
                 Napi::Number::New(env, usage.ru_maxrss), Napi::Boolean::New(env, group_left)});
}

}  // namespace

uint32_t StartWatch(AddonState* state, pid_t pid, int pidfd, bool kill_group_on_exit,
                    bool kill_on_teardown) {
  Watch* watch = new Watch();
  watch->state = state;
  watch->pid = pid;
  watch->pidfd = pidfd;
  watch->kill_group_on_exit = kill_group_on_exit;
  watch->kill_on_teardown = kill_on_teardown;
  int r = uv_poll_init(state->loop, &watch->poll, pidfd);
  if (r == 0) r = uv_poll_start(&watch->poll, UV_READABLE, OnPidfdReadable);
  if (r != 0) {
    delete watch;  // uv_poll_init on epoll cannot half-succeed in a way needing close
    errno = -r;
    return 0;
  }
  watch->id = state->NextId();
  state->refs++;
  state->watches.emplace(watch->id, watch);
  return watch->id;
}

int KillAndReapAll(AddonState* state) {
  int killed = 0;
  // Signal everything first, then reap: the procs die in parallel.
  for (auto& [id, watch] : state->watches) {
    if (!watch->kill_on_teardown) continue;
    kill(-watch->pid, SIGKILL);
    syscall(SYS_pidfd_send_signal, watch->pidfd, SIGKILL, nullptr, 0);
  }
  while (!state->watches.empty()) {
    Watch* watch = state->watches.begin()->second;
    if (!watch->kill_on_teardown) {
      StopWatch(watch);  // left running on purpose; the kernel reparents it
      continue;
    }
    // The pidfd is non-blocking (uv_poll set it): wait for readability, then kill
    // stragglers of the group while the zombie leader still pins it, then reap.
    pollfd pfd{watch->pidfd, POLLIN, 0};
    while (poll(&pfd, 1, -1) < 0 && errno == EINTR) {
    }
    kill(-watch->pid, SIGKILL);
    siginfo_t info = {};
    WaitPidfd(watch->pidfd, &info, WEXITED | WNOHANG, nullptr);
    StopWatch(watch);
    killed++;
  }
  return killed;
}

}  // namespace proclaunch
