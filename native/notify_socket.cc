#include "notify_socket.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace proclaunch {
namespace {

// sd_notify messages are at most a pipe buffer (systemd's own limit).
constexpr size_t kMaxMessage = 4096;
constexpr size_t kMaxFds = 64;

void OnSocketClosed(uv_handle_t* handle) {
  NotifySocket* socket = reinterpret_cast<NotifySocket*>(handle);
  AddonState* state = socket->state;
  delete socket;
  state->HandleClosed();
}

void CloseReceivedFds(msghdr* msg) {
  for (cmsghdr* c = CMSG_FIRSTHDR(msg); c != nullptr; c = CMSG_NXTHDR(msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    int fds[kMaxFds];
    memcpy(fds, CMSG_DATA(c), count * sizeof(int));
    for (size_t i = 0; i < count; i++) close(fds[i]);
  }
}

void OnReadable(uv_poll_t* handle, int status, int /*events*/) {
  NotifySocket* socket = reinterpret_cast<NotifySocket*>(handle);
  AddonState* state = socket->state;
  if (status < 0) return;
  uint32_t socket_id = socket->id;
  for (;;) {
    char buffer[kMaxMessage + 1];
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(ucred)) + CMSG_SPACE(sizeof(int) * kMaxFds)];
    iovec iov{buffer, kMaxMessage};
    msghdr msg = {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = recvmsg(socket->fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // EAGAIN: drained
    }
    ucred cred{-1, static_cast<uid_t>(-1), static_cast<gid_t>(-1)};
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
        memcpy(&cred, CMSG_DATA(c), sizeof cred);
      }
    }
    bool truncated = (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0;
    if (!truncated && cred.pid > 0) {
      Napi::Env env(state->env);
      Napi::HandleScope scope(env);
      state->CallJs(state->on_notify,
                    {Napi::Number::New(env, socket_id), Napi::Number::New(env, cred.pid),
                     Napi::Number::New(env, cred.uid),
                     Napi::String::New(env, buffer, static_cast<size_t>(n))});
    }
    // Closing passed fds after JS has seen the message is what releases a sender
    // waiting in sd_notify_barrier() (systemd-notify does so by default).
    CloseReceivedFds(&msg);
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
  NotifySocket* socket = new NotifySocket();
  socket->state = state;
  socket->fd = fd;
  int r = uv_poll_init(state->loop, &socket->poll, fd);
  if (r == 0) r = uv_poll_start(&socket->poll, UV_READABLE, OnReadable);
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

void CloseNotifySocket(NotifySocket* socket) {
  socket->state->sockets.erase(socket->id);
  uv_poll_stop(&socket->poll);
  close(socket->fd);
  socket->fd = -1;
  uv_close(reinterpret_cast<uv_handle_t*>(&socket->poll), OnSocketClosed);
}

}  // namespace proclaunch
