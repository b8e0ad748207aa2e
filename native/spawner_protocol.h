// The wire form between the addon and the spawn server (spawner.cc): one
// SOCK_SEQPACKET datagram per request and per reply, fds by SCM_RIGHTS. Both ends are
// built from this tree at the same time, so the layout is plain memory, not a format.
#pragma once

#include <sched.h>
#include <stdint.h>

#include "child.h"

namespace proclaunch {

// The fds that ride with a request, in this order, each only when its flag is set.
enum RequestFd : uint32_t {
  kFdStdin = 1,   // the read end of the stdin pipe
  kFdStdout = 2,  // the write end of the stdout pipe
  kFdStderr = 4,  // the write end of the stderr pipe
  kFdCgroup = 8,  // the proc's cgroup directory
};
constexpr int kMaxRequestFds = 4;

// A request: this header, then `strings_bytes` of NUL-terminated strings: the exec
// paths, argv, envp (their counts below), then cwd when has_cwd.
struct SpawnRequestWire {
  uint32_t id;
  uint32_t fds;  // RequestFd bits
  int32_t stdin_mode;
  int32_t parent_death_signal;
  uint8_t new_session;
  uint8_t set_affinity;
  uint8_t set_membind;
  uint8_t has_cwd;
  uint32_t path_count;
  uint32_t argv_count;
  uint32_t env_count;
  uint32_t strings_bytes;
  int32_t rlimit_count;
  RlimitEntry rlimits[kMaxRlimits];
  unsigned long membind_mask[16];
  cpu_set_t affinity;
};

// A reply. With pid > 0 the child's pidfd rides along: on success the proc runs; with
// stage != 0 it failed before exec and is (or is about to be) a zombie that only we, its
// parent (CLONE_PARENT), can reap. With pid <= 0 there is no child and no fd.
struct SpawnReplyWire {
  uint32_t id;
  int32_t pid;
  int32_t stage;  // 0, a ChildStage or a ParentStage (clone_child.h)
  int32_t err;
  int32_t used_clone3;  // with kStageClone: whether clone3 (not clone) failed
};

// Requests larger than this go through the in-process spawn instead (a seqpacket
// datagram must fit the socket's send buffer).
constexpr uint32_t kMaxRequestBytes = 160 * 1024;

}  // namespace proclaunch
