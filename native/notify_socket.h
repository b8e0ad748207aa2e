// An AF_UNIX datagram socket that receives sd_notify messages for one proc (Node's dgram
// cannot do AF_UNIX). Hardened against any local user who can reach the address:
// nothing is read until the proc's pid is known, each datagram's sender is checked here
// (cheaply, before any JS runs), work per loop turn is bounded, and passed fds are
// closed without blocking the loop. What a message means is decided in TypeScript.
#pragma once

#include <sys/types.h>
#include <uv.h>

#include "addon_state.h"

namespace proclaunch {

struct NotifySocket {
  uv_poll_t poll;
  AddonState* state;
  uint32_t id;
  int fd;
  // SO_PASSPIDFD took (kernel >= 6.5): every datagram carries a pidfd of its sender.
  bool pidfd_senders;
  // The proc's pid once known (0 before: nothing is read) and its start time in ticks.
  pid_t leader;
  unsigned long long leader_start;
  // The pidfd inodes (unique per process for the whole boot) of the last senders turned
  // away: a process outside the tree can never enter it, so a flooder is judged once.
  unsigned long long rejected[8];
  unsigned rejected_next;
};

// Binds a socket at `address` ("@name" for the abstract namespace). Returns the
// socket id, or 0 with errno set.
uint32_t OpenNotifySocket(AddonState* state, const char* address);
// Starts reading, accepting only datagrams from `leader` or its descendants. Returns 0
// or an errno.
int ArmNotifySocket(NotifySocket* socket, pid_t leader);
void CloseNotifySocket(NotifySocket* socket);

}  // namespace proclaunch
