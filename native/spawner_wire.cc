#include "spawner_wire.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

namespace proclaunch {

bool EncodeRequest(const AsyncSpawn& spawn, uint32_t id, uint32_t fd_bits, std::vector<char>* out) {
  ChildPlan plan = *spawn.plan;
  // The server's cwd is ours as it was when it started: send the one of the moment
  // (process.chdir since then). A cwd we cannot name (deleted) is left inherited.
  char cwd[4096];
  if (plan.cwd == nullptr && getcwd(cwd, sizeof cwd) != nullptr) plan.cwd = cwd;
  SpawnRequestWire req = {};
  req.id = id;
  req.fds = fd_bits;
  req.stdin_mode = plan.stdin_mode;
  req.parent_death_signal = plan.parent_death_signal;
  req.new_session = plan.new_session;
  req.set_affinity = plan.set_affinity;
  req.set_membind = plan.set_membind;
  req.has_cwd = plan.cwd != nullptr;
  req.rlimit_count = plan.rlimit_count;
  memcpy(req.rlimits, plan.rlimits, sizeof req.rlimits);
  memcpy(req.membind_mask, plan.membind_mask, sizeof req.membind_mask);
  req.affinity = plan.affinity;
  size_t bytes = sizeof req;
  auto measure = [&bytes](char* const* list, uint32_t* count) {
    for (char* const* s = list; *s != nullptr; s++, (*count)++) bytes += strlen(*s) + 1;
  };
  measure(plan.exec_paths, &req.path_count);
  measure(plan.argv, &req.argv_count);
  measure(plan.envp, &req.env_count);
  if (plan.cwd != nullptr) bytes += strlen(plan.cwd) + 1;
  if (bytes > kMaxRequestBytes) return false;
  req.strings_bytes = static_cast<uint32_t>(bytes - sizeof req);
  out->resize(bytes);
  char* at = out->data();
  memcpy(at, &req, sizeof req);
  at += sizeof req;
  auto put = [&at](const char* s) {
    size_t n = strlen(s) + 1;
    memcpy(at, s, n);
    at += n;
  };
  for (char* const* s = plan.exec_paths; *s != nullptr; s++) put(*s);
  for (char* const* s = plan.argv; *s != nullptr; s++) put(*s);
  for (char* const* s = plan.envp; *s != nullptr; s++) put(*s);
  if (plan.cwd != nullptr) put(plan.cwd);
  return true;
}

ssize_t SendRequest(int sock, std::vector<char>& data, const int* fds, int fd_count) {
  iovec iov{data.data(), data.size()};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxRequestFds)] = {};
  msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (fd_count > 0) {
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * fd_count);
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fd_count);
    memcpy(CMSG_DATA(c), fds, sizeof(int) * fd_count);
  }
  ssize_t n;
  do {
    n = sendmsg(sock, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  return n;
}

int ReadReply(int sock, SpawnReplyWire* reply, int* pidfd, int flags) {
  iovec iov{reply, sizeof *reply};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do {
    n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | flags);
  } while (n < 0 && errno == EINTR);
  if (n < 0 && errno == EAGAIN) return 0;
  if (n <= 0) {
    if (n == 0) errno = EPIPE;
    return -1;
  }
  *pidfd = -1;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len >= CMSG_LEN(sizeof(int))) {
      memcpy(pidfd, CMSG_DATA(c), sizeof(int));
    }
  }
  if (static_cast<size_t>(n) != sizeof *reply) {
    if (*pidfd >= 0) close(*pidfd);
    *pidfd = -1;
    errno = EPROTO;
    return -1;
  }
  return 1;
}

}  // namespace proclaunch
