// An AF_UNIX datagram socket that receives sd_notify messages with the sender's
// credentials (Node's dgram cannot do AF_UNIX). Policy lives in TypeScript.
#pragma once

#include <uv.h>

#include "addon_state.h"

namespace proclaunch {

struct NotifySocket {
  uv_poll_t poll;
  AddonState* state;
  uint32_t id;
  int fd;
};

// Binds a socket at `address` ("@name" for the abstract namespace). Returns the
// socket id, or 0 with errno set.
uint32_t OpenNotifySocket(AddonState* state, const char* address);
void CloseNotifySocket(NotifySocket* socket);

}  // namespace proclaunch
