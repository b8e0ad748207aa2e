#include "notify_socket.h"
#include "notify_send.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <condition_variable>
#include <deque>
#include <mutex>

namespace proclaunch {
namespace {

// Not in glibc 2.36's headers (asm-generic/socket.h values, the same on x86_64 and arm64).
#ifndef SO_PASSPIDFD
#define SO_PASSPIDFD 76
#endif
#ifndef SCM_PIDFD
#define SCM_PIDFD 0x04
#endif

// sd_notify messages are at most a pipe buffer (systemd's own limit); longer ones arrive
// truncated (MSG_TRUNC) and are dropped.
constexpr size_t kMaxMessage = kMaxNotifyMessage;
// The kernel's SCM_MAX_FD: room for every fd a datagram can carry, so none is left for
// the kernel to drop (its final fput would run, and could block, in this thread).
constexpr size_t kMaxFds = 253;
// Datagrams handled per loop turn. The poll is level-triggered: what is left makes it
// fire again on the next turn, after timers and other I/O had their share.
constexpr int kDatagramsPerTurn = 32;
// Ancestors walked up from a sender before giving up.
constexpr int kMaxDepth = 64;

// ---- Closing fds a sender attached, off the loop thread ---------------------------
// close() can block for as long as the sender likes (a TCP socket with SO_LINGER and
// unsent data, a FUSE file). Pipes, the one legitimate case (sd_notify's BARRIER=1),
// close at once, on the loop thread, so the barrier is released in order. Anything
// else goes to one detached thread that never touches JS.

struct FdCloser {
  std::mutex mutex;
  std::condition_variable wake;
  std::deque<int> queue;
  bool started = false;
};

// Never destroyed: the thread may still wait on it while the process exits.
FdCloser* const closer = new FdCloser();

void CloseAbortively(int fd) {
  int type = 0;
  socklen_t len = sizeof type;
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_STREAM) {
    // A zero linger makes the last close reset the connection instead of waiting.
    linger abort_now{1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort_now, sizeof abort_now);
  }
  close(fd);
}

void* RunCloser(void*) {
  std::unique_lock<std::mutex> lock(closer->mutex);
  for (;;) {
    closer->wake.wait(lock, [] { return !closer->queue.empty(); });
    int fd = closer->queue.front();
    closer->queue.pop_front();
    lock.unlock();
    CloseAbortively(fd);
    lock.lock();
  }
  return nullptr;
}

void CloseOffLoop(int fd) {
  {
    std::lock_guard<std::mutex> guard(closer->mutex);
    if (!closer->started) {
      pthread_attr_t attr;
      pthread_attr_init(&attr);
      pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
      // pthread rather than std::thread: without exceptions a failed std::thread aborts.
      pthread_t thread;
      closer->started = pthread_create(&thread, &attr, RunCloser, nullptr) == 0;
      pthread_attr_destroy(&attr);
    }
    if (closer->started) {
      closer->queue.push_back(fd);
      closer->wake.notify_one();
      return;
    }
  }
  CloseAbortively(fd);  // no thread to be had: the abortive close still avoids the linger
}

void CloseReceivedFds(msghdr* msg) {
  for (cmsghdr* c = CMSG_FIRSTHDR(msg); c != nullptr; c = CMSG_NXTHDR(msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; i++) {
      int fd;
      memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      struct stat st;
      if (fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode)) close(fd);
      else CloseOffLoop(fd);
    }
  }
}

// ---- Who sent it -------------------------------------------------------------------

struct StatFields {
  pid_t ppid;
  pid_t pgrp;
  pid_t session;
  unsigned long long start;  // field 22, clock ticks since boot
};

bool ReadStat(pid_t pid, StatFields* out) {
  char path[32];
  snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char text[1024];
  ssize_t n = read(fd, text, sizeof text - 1);
  close(fd);
  if (n <= 0) return false;
  text[n] = '\0';
  // comm may hold spaces and parentheses: the fields start after the last ')'.
  char* p = strrchr(text, ')');
  if (p == nullptr || p[1] != ' ') return false;
  p += 2;
  unsigned long long field[20];  // fields 3 (state) .. 22 (starttime)
  for (int i = 0; i < 20; i++) {
    while (*p == ' ') p++;
    if (*p == '\0') return false;
    char* end = p;
    field[i] = i == 0 ? 0 : strtoull(p, &end, 10);
    while (*end != ' ' && *end != '\0') end++;
    p = end;
  }
  out->ppid = static_cast<pid_t>(field[1]);
  out->pgrp = static_cast<pid_t>(field[2]);
  out->session = static_cast<pid_t>(field[3]);
  out->start = field[19];
  return true;
}

enum class Lineage { kInTree, kOutside, kUnknown };

// The proc itself, a member of the process group or session it leads (its pid cannot be
// reused while either lives; the group is the default, a session with newSession: a
// daemonized descendant whose parent is gone stays found), or a process with the proc in
// its parent chain. kUnknown: a process
// on the way could not be read (gone, or no fd to read it with).
Lineage ReadLineage(const NotifySocket* socket, pid_t pid) {
  if (pid == socket->leader) return Lineage::kInTree;
  StatFields f;
  if (!ReadStat(pid, &f)) return Lineage::kUnknown;
  if (f.pgrp == socket->leader || f.session == socket->leader) return Lineage::kInTree;
  for (int depth = 0; depth < kMaxDepth; depth++) {
    // A descendant, and every ancestor up to the proc, started no earlier than the
    // proc: a stranger's walk usually ends at its first old ancestor.
    if (f.start < socket->leader_start) return Lineage::kOutside;
    pid_t parent = f.ppid;
    if (parent == socket->leader) return Lineage::kInTree;
    if (parent <= 1) return Lineage::kOutside;
    if (!ReadStat(parent, &f)) return Lineage::kUnknown;
  }
  return Lineage::kOutside;
}

// Since Linux 6.9 pidfds live on pidfs, where each process has its own inode number for
// the whole boot; before, every pidfd shares one anonymous inode and cannot name a process.
bool HasUniquePidfdInodes() {
  static const bool unique = [] {
    int self = static_cast<int>(syscall(SYS_pidfd_open, getpid(), 0));
    if (self < 0) return false;
    struct statfs fs;
    bool on_pidfs = fstatfs(self, &fs) == 0 && fs.f_type == 0x50494446;  // PID_FS_MAGIC
    close(self);
    return on_pidfs;
  }();
  return unique;
}

// With a pidfd the verdict is about the sender itself: the walk read /proc/<pid>, and
// if the pidfd's process is still there (a zombie counts: it pins its pid) afterwards,
// that pid was never reused in between. Without one (kernel < 6.5) the pid is all we have.
bool IsFromProcTree(NotifySocket* socket, pid_t pid, int pidfd) {
  if (socket->pidfd_senders && pidfd < 0) return false;
  struct stat st;
  unsigned long long inode = pidfd >= 0 && HasUniquePidfdInodes() && fstat(pidfd, &st) == 0 ? st.st_ino : 0;
  if (inode != 0) {
    for (unsigned long long seen : socket->rejected) {
      if (seen == inode) return false;
    }
  }
  Lineage lineage = ReadLineage(socket, pid);
  // EPERM: alive, only not ours to signal (a descendant that changed uid).
  bool alive = pidfd >= 0 && (syscall(SYS_pidfd_send_signal, pidfd, 0, nullptr, 0) == 0 || errno == EPERM);
  // A process outside the tree never enters it (reparenting only drops ancestors, and no
  // one can join another's session): a flooder is walked once, then known by its inode.
  if (lineage == Lineage::kOutside && alive && inode != 0) socket->rejected[socket->rejected_next++ % 8] = inode;
  if (lineage != Lineage::kInTree) return false;
  return pidfd < 0 || alive;
}

// ---- Receiving ---------------------------------------------------------------------

void OnSocketClosed(uv_handle_t* handle) {
  NotifySocket* socket = reinterpret_cast<NotifySocket*>(handle);
  AddonState* state = socket->state;
  delete socket;
  state->HandleClosed();
}

struct Datagram {
  char text[kMaxMessage + 1];
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(ucred)) + CMSG_SPACE(sizeof(int)) +
                                CMSG_SPACE(sizeof(int) * kMaxFds)];
  msghdr msg;
  ssize_t length;
  ucred cred;
  int pidfd;
};

// One datagram, or false when the queue is empty (or the socket failed).
bool ReceiveOne(int fd, Datagram* d) {
  iovec iov{d->text, kMaxMessage};
  for (;;) {
    d->msg = {};
    d->msg.msg_iov = &iov;
    d->msg.msg_iovlen = 1;
    d->msg.msg_control = d->control;
    d->msg.msg_controllen = sizeof d->control;
    d->length = recvmsg(fd, &d->msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (d->length >= 0) break;
    if (errno != EINTR) return false;
  }
  d->cred = {-1, static_cast<uid_t>(-1), static_cast<gid_t>(-1)};
  d->pidfd = -1;
  for (cmsghdr* c = CMSG_FIRSTHDR(&d->msg); c != nullptr; c = CMSG_NXTHDR(&d->msg, c)) {
    if (c->cmsg_level != SOL_SOCKET) continue;
    if (c->cmsg_type == SCM_CREDENTIALS) memcpy(&d->cred, CMSG_DATA(c), sizeof d->cred);
    if (c->cmsg_type == SCM_PIDFD) memcpy(&d->pidfd, CMSG_DATA(c), sizeof d->pidfd);
  }
  return true;
}

// systemd's rules: a truncated datagram is ignored, and so is one with a NUL byte
// anywhere but at its very end.
bool IsWellFormed(const Datagram& d) {
  if ((d.msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0) return false;
  size_t length = static_cast<size_t>(d.length);
  return length <= 1 || memchr(d.text, '\0', length - 1) == nullptr;
}

void OnReadable(uv_poll_t* handle, int status, int /*events*/) {
  NotifySocket* socket = reinterpret_cast<NotifySocket*>(handle);
  AddonState* state = socket->state;
  if (status < 0) return;
  uint32_t socket_id = socket->id;
  // Thread-local scratch: 5 KB per datagram is too much for a fresh stack frame each time.
  static thread_local Datagram d;
  for (int handled = 0; handled < kDatagramsPerTurn; handled++) {
    if (!ReceiveOne(socket->fd, &d)) return;  // EAGAIN: drained
    bool accepted = IsWellFormed(d) && d.cred.pid > 0 && IsFromProcTree(socket, d.cred.pid, d.pidfd);
    if (d.pidfd >= 0) close(d.pidfd);
    if (accepted) {
      size_t length = static_cast<size_t>(d.length);
      if (length > 0 && d.text[length - 1] == '\0') length--;
      Napi::Env env(state->env);
      Napi::HandleScope scope(env);
      state->CallJs(state->on_notify,
                    {Napi::Number::New(env, socket_id), Napi::Number::New(env, d.cred.pid),
                     Napi::Number::New(env, d.cred.uid), Napi::Buffer<char>::Copy(env, d.text, length)});
    }
    // Closing passed fds after JS has seen the message is what releases a sender
    // waiting in sd_notify_barrier() (systemd-notify does so by default).
    CloseReceivedFds(&d.msg);
    // JS may have closed this socket from inside the callback.
    if (state->sockets.find(socket_id) == state->sockets.end()) return;
  }
}

}  // namespace

uint32_t OpenNotifySocket(AddonState* state, const char* address) {
  sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  size_t len = strlen(address);
  if (len == 0 || len >= sizeof addr.sun_path) {
    errno = ENAMETOOLONG;
    return 0;
  }
  memcpy(addr.sun_path, address, len);
  if (address[0] == '@') addr.sun_path[0] = '\0';  // abstract: no file to leak
  socklen_t addr_len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len);

  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return 0;
  int one = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof one) < 0 ||
      bind(fd, reinterpret_cast<sockaddr*>(&addr), addr_len) < 0) {
    int saved = errno;
    close(fd);
    errno = saved;
    return 0;
  }
  // Older kernels refuse the option (ENOPROTOOPT): senders are then known by pid only.
  bool pidfd_senders = setsockopt(fd, SOL_SOCKET, SO_PASSPIDFD, &one, sizeof one) == 0;
  NotifySocket* socket = new NotifySocket();
  socket->state = state;
  socket->fd = fd;
  socket->pidfd_senders = pidfd_senders;
  socket->leader = 0;
  socket->leader_start = 0;
  memset(socket->rejected, 0, sizeof socket->rejected);
  socket->rejected_next = 0;
  int r = uv_poll_init(state->loop, &socket->poll, fd);
  if (r != 0) {
    close(fd);
    delete socket;
    errno = -r;
    return 0;
  }
  // A notify socket must not keep the process alive on its own.
  uv_unref(reinterpret_cast<uv_handle_t*>(&socket->poll));
  socket->id = state->NextId();
  state->refs++;
  state->sockets.emplace(socket->id, socket);
  return socket->id;
}

int ArmNotifySocket(NotifySocket* socket, pid_t leader) {
  if (leader <= 0) return EINVAL;
  socket->leader = leader;
  StatFields f;
  // A leader already gone leaves no start time: the walk then just lacks its shortcut.
  socket->leader_start = ReadStat(leader, &f) ? f.start : 0;
  int r = uv_poll_start(&socket->poll, UV_READABLE, OnReadable);
  return r == 0 ? 0 : -r;
}

void CloseNotifySocket(NotifySocket* socket) {
  socket->state->sockets.erase(socket->id);
  uv_poll_stop(&socket->poll);
  close(socket->fd);
  socket->fd = -1;
  uv_close(reinterpret_cast<uv_handle_t*>(&socket->poll), OnSocketClosed);
}

}  // namespace proclaunch
