// proclaunch-spawner: the spawn server. The addon starts one per Node environment and
// hands it launch plans over fd 3 (SOCK_SEQPACKET, spawner_protocol.h); it clones each
// child with CLONE_PARENT, so the child is the Node process's own (waitid on its pidfd
// works there), and sends the pidfd back.
//
// Why a process and not a thread: a CLONE_VM child takes the cloning address space's
// high-water RSS into its own at execve, so a child cloned from Node reports Node's
// hundreds of MB as its maxrss. Cloned from here (about 1 MB), it reports its own peak.
// And the event loop only writes a datagram instead of waiting for the child's exec.
//
// Built without libstdc++ (plain C calls only) so that its RSS stays tiny. It exits
// when the socket reaches EOF (the addon closed it, or the Node process died) and is
// started with PR_SET_PDEATHSIG(SIGKILL) for the thread that made it.
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clone_child.h"
#include "spawner_protocol.h"

namespace proclaunch {
namespace {

constexpr int kSocketFd = 3;
constexpr uint32_t kMaxStrings = 64 * 1024;  // pointers: paths + argv + env

// Static, so nothing is allocated; only the pages a request touches count to our RSS.
alignas(16) char child_stack[kChildStackSize];
alignas(16) char request_buf[kMaxRequestBytes];
char* string_ptrs[kMaxStrings + 4];

// Splits `count` NUL-terminated strings off [*at, end) into ptrs (null-terminated).
bool TakeStrings(char** at, char* end, uint32_t count, char*** ptrs_at, char* const** out) {
  *out = *ptrs_at;
  for (uint32_t i = 0; i < count; i++) {
    char* nul = static_cast<char*>(memchr(*at, '\0', static_cast<size_t>(end - *at)));
    if (nul == nullptr) return false;
    *(*ptrs_at)++ = *at;
    *at = nul + 1;
  }
  *(*ptrs_at)++ = nullptr;
  return true;
}

void SendReply(const SpawnReplyWire& reply, int pidfd) {
  iovec iov{const_cast<SpawnReplyWire*>(&reply), sizeof reply};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (pidfd >= 0) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &pidfd, sizeof(int));
  }
  // The addon never stops reading while it lives; EPIPE means it is gone.
  while (sendmsg(kSocketFd, &msg, MSG_NOSIGNAL) < 0) {
    if (errno != EINTR) _exit(errno == EPIPE || errno == ECONNRESET ? 0 : 3);
  }
}

// Runs one request whose header and strings are in request_buf; `fds` are those that
// came with it, in RequestFd order.
void Serve(size_t length, const int* fds, int fd_count) {
  SpawnReplyWire reply = {};
  const SpawnRequestWire* req = reinterpret_cast<const SpawnRequestWire*>(request_buf);
  reply.id = length >= sizeof *req ? req->id : 0;
  reply.stage = kStageStdio;
  reply.err = EPROTO;
  int expected = __builtin_popcount(length >= sizeof *req ? req->fds : 0);
  if (length < sizeof *req || req->strings_bytes != length - sizeof *req || fd_count != expected ||
      static_cast<uint64_t>(req->path_count) + req->argv_count + req->env_count > kMaxStrings ||
      req->rlimit_count < 0 || req->rlimit_count > kMaxRlimits) {
    SendReply(reply, -1);
    return;
  }
  ChildPlan plan = {};
  char* at = request_buf + sizeof *req;
  char* end = request_buf + length;
  char** ptrs = string_ptrs;
  if (!TakeStrings(&at, end, req->path_count, &ptrs, &plan.exec_paths) ||
      !TakeStrings(&at, end, req->argv_count, &ptrs, &plan.argv) ||
      !TakeStrings(&at, end, req->env_count, &ptrs, &plan.envp)) {
    SendReply(reply, -1);
    return;
  }
  plan.cwd = req->has_cwd ? at : nullptr;
  if (req->has_cwd && memchr(at, '\0', static_cast<size_t>(end - at)) == nullptr) {
    SendReply(reply, -1);
    return;
  }
  int next = 0;
  plan.stdin_fd = -1;
  plan.stdout_fd = -1;
  plan.stderr_fd = -1;
  int cgroup_fd = -1;
  if (req->fds & kFdStdin) plan.stdin_fd = fds[next++];
  if (req->fds & kFdStdout) plan.stdout_fd = fds[next++];
  if (req->fds & kFdStderr) plan.stderr_fd = fds[next++];
  if (req->fds & kFdCgroup) cgroup_fd = fds[next++];
  plan.stdin_mode = req->stdin_mode;
  plan.parent_death_signal = req->parent_death_signal;
  // With CLONE_PARENT the child's parent is ours: the Node process.
  plan.parent_pid = getppid();
  plan.new_session = req->new_session != 0;
  plan.reset_scheduler = true;
  plan.set_affinity = req->set_affinity != 0;
  plan.affinity = req->affinity;
  plan.set_membind = req->set_membind != 0;
  memcpy(plan.membind_mask, req->membind_mask, sizeof plan.membind_mask);
  plan.rlimit_count = req->rlimit_count;
  memcpy(plan.rlimits, req->rlimits, sizeof plan.rlimits);
  plan.cgroup_procs_fd = -1;
  ChildError record = {};
  plan.error = &record;
  // The child keeps the low fds and those that came with the request.
  plan.unshare_from = kSocketFd + 1;
  for (int i = 0; i < fd_count; i++) {
    if (fds[i] >= plan.unshare_from) plan.unshare_from = fds[i] + 1;
  }

  sigset_t all, previous;
  sigfillset(&all);
  sigprocmask(SIG_SETMASK, &all, &previous);
  int pidfd = -1;
  int clone_errno = 0;
  const char* clone_syscall = "clone";
  pid_t pid = CloneChild(plan, child_stack, cgroup_fd, CLONE_PARENT, &pidfd, &clone_errno, &clone_syscall);
  sigprocmask(SIG_SETMASK, &previous, nullptr);

  reply.pid = pid;
  if (pid < 0) {
    reply.stage = strcmp(clone_syscall, "open") == 0 ? kStageCgroupOpen : kStageClone;
    reply.err = clone_errno;
    reply.used_clone3 = strcmp(clone_syscall, "clone3") == 0;
    SendReply(reply, -1);
    return;
  }
  // CLONE_VFORK: the child has exec'd (record untouched) or written its record and exited.
  reply.stage = __atomic_load_n(&record.stage, __ATOMIC_ACQUIRE);
  reply.err = record.err;
  SendReply(reply, pidfd);
  close(pidfd);
}

int Run() {
  // The socket must not reach the children (they inherit nothing of ours above stderr).
  if (fcntl(kSocketFd, F_SETFD, FD_CLOEXEC) < 0) return 2;
  signal(SIGPIPE, SIG_IGN);
  // SCHED_BATCH: woken by a plan, we do not preempt the Node thread that sent it (on a
  // busy core the wake-up preemption made the launch call wait for our clone+exec).
  // Each child goes back to SCHED_OTHER before exec (ChildPlan::reset_scheduler).
  sched_param batch = {};
  sched_setscheduler(0, SCHED_BATCH, &batch);
  for (;;) {
    iovec iov{request_buf, sizeof request_buf};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxRequestFds)];
    msghdr msg = {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = recvmsg(kSocketFd, &msg, MSG_CMSG_CLOEXEC);
    if (n == 0) return 0;  // EOF: the addon is done with us
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno == ECONNRESET ? 0 : 3;
    }
    int fds[kMaxRequestFds];
    int fd_count = 0;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
      size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < count; i++) {
        int fd;
        memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
        if (fd_count < kMaxRequestFds) fds[fd_count++] = fd; else close(fd);
      }
    }
    // A truncated datagram or fd list is refused rather than half read.
    if ((msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0) n = 0;
    Serve(static_cast<size_t>(n), fds, fd_count);
    for (int i = 0; i < fd_count; i++) close(fds[i]);
  }
}

}  // namespace
}  // namespace proclaunch

int main() { return proclaunch::Run(); }
