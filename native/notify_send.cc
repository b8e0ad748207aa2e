#include "notify_send.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace proclaunch {

int SendNotifyWithBarrier(const char* address, const char* message, size_t length,
                          const char** stage) {
  sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  size_t address_length = strlen(address);
  if (address_length == 0 || address_length >= sizeof addr.sun_path) {
    *stage = "address";
    errno = ENAMETOOLONG;
    return -1;
  }
  memcpy(addr.sun_path, address, address_length);
  if (address[0] == '@') addr.sun_path[0] = '\0';
  socklen_t addr_len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address_length);

  // The receiver drops a longer datagram (so would systemd): say so instead of sending it.
  if (length > kMaxNotifyMessage) {
    *stage = "size";
    errno = EMSGSIZE;
    return -1;
  }
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *stage = "socket";
    return -1;
  }
  int barrier[2] = {-1, -1};
  auto fail = [&](const char* where) {
    int saved = errno;
    close(fd);
    if (barrier[0] >= 0) close(barrier[0]);
    if (barrier[1] >= 0) close(barrier[1]);
    *stage = where;
    errno = saved;
    return -1;
  };
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), addr_len) < 0) return fail("connect");
  if (send(fd, message, length, MSG_NOSIGNAL) < 0) return fail("send");
  if (pipe2(barrier, O_CLOEXEC) < 0) return fail("pipe");

  char text[] = "BARRIER=1";
  iovec iov{text, sizeof text - 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &barrier[1], sizeof(int));
  if (sendmsg(fd, &msg, MSG_NOSIGNAL) < 0) return fail("send");
  close(barrier[1]);
  close(fd);
  return barrier[0];
}

}  // namespace proclaunch
