// Encoding and moving the spawn server's datagrams (spawner_protocol.h), addon side.
#pragma once

#include <sys/types.h>

#include <vector>

#include "spawner_client.h"
#include "spawner_protocol.h"

namespace proclaunch {

// The request's header and strings into `out`; false when over kMaxRequestBytes.
bool EncodeRequest(const AsyncSpawn& spawn, uint32_t id, uint32_t fd_bits, std::vector<char>* out);

// One non-blocking sendmsg of `data` with `fds` by SCM_RIGHTS; what sendmsg returned.
ssize_t SendRequest(int sock, std::vector<char>& data, const int* fds, int fd_count);

// Reads one reply: 1 with one (and *pidfd, or -1), 0 when none is waiting, -1 with
// errno at EOF (EPIPE) or on error.
int ReadReply(int sock, SpawnReplyWire* reply, int* pidfd, int flags);

}  // namespace proclaunch
