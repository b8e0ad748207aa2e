#include "signal.h"

#include <errno.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace proclaunch {

int SignalWatched(const Watch* watch, int sig, bool to_group) {
  // The watch exists only until we reap the leader, and a live or zombie leader pins
  // its pgid (== its pid: the child's setpgid(0, 0) or setsid): kill(-pgid) cannot hit a recycled group here.
  if (to_group) kill(-watch->pid, sig);
  if (syscall(SYS_pidfd_send_signal, watch->pidfd, sig, nullptr, 0) < 0) return errno;
  return 0;
}

void KillAndReapUnwatched(pid_t pid, int pidfd) {
  kill(-pid, SIGKILL);
  syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0);
  siginfo_t info;
  while (syscall(SYS_waitid, P_PIDFD, pidfd, &info, WEXITED, nullptr) < 0 && errno == EINTR) {
  }
  close(pidfd);
}

}  // namespace proclaunch
