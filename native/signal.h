// Signalling a watched proc: the leader by pidfd, the group by kill(-pgid).
#pragma once

#include "exit_watch.h"

namespace proclaunch {

// Returns 0 when the leader was signalled, or an errno (ESRCH: already exited).
int SignalWatched(const Watch* watch, int sig, bool to_group);

// For a proc that could not be put under watch: SIGKILL its group and leader, reap it
// and close its pidfd, so nothing runs unsupervised.
void KillAndReapUnwatched(pid_t pid, int pidfd);

}  // namespace proclaunch
