// The sending side of sd_notify, for Node programs (proclaunch/notify): Node's dgram
// cannot do AF_UNIX.
#pragma once

#include <stddef.h>

namespace proclaunch {

// The largest sd_notify message a receiver accepts (a pipe buffer, as in systemd).
constexpr size_t kMaxNotifyMessage = 4096;

// Sends `message` as one datagram to `address` ("@name" = abstract), then a
// "BARRIER=1" datagram carrying the write end of a fresh pipe, which the receiver
// closes once it has handled everything before it. Returns the pipe's read end (EOF
// on it = the receiver is done), or -1 with errno set (EMSGSIZE: longer than
// kMaxNotifyMessage) and *stage naming the step.
int SendNotifyWithBarrier(const char* address, const char* message, size_t length,
                          const char** stage);

}  // namespace proclaunch
