// JS-facing functions of the sd_notify channel: receive sockets for the manager, and
// sending with a barrier for proclaunch/notify.
#include "notify_exports.h"

#include <errno.h>
#include <poll.h>
#include <unistd.h>

#include <string>

#include "js_args.h"
#include "js_values.h"
#include "notify_send.h"
#include "notify_socket.h"

namespace proclaunch {
namespace {

// openNotifySocket(address) -> id | { errno, stage, syscall }
Napi::Value OpenNotify(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ArgReader in(env, "openNotifySocket");
  std::string address;
  if (!in.ReadString(info[0], Field{"address"}, kMaxStringBytes, &address)) return Napi::Value();
  uint32_t id = OpenNotifySocket(GetState(env), address.c_str());
  if (id == 0) return FailureObject(env, "notify-socket", "bind", errno);
  return Napi::Number::New(env, id);
}

// sendNotify(address, message) -> barrier read fd | { errno, stage, syscall }
Napi::Value SendNotify(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ArgReader in(env, "sendNotify");
  std::string address;
  std::string message;
  if (!in.ReadString(info[0], Field{"address"}, kMaxStringBytes, &address) ||
      !in.ReadString(info[1], Field{"message"}, kMaxStringBytes, &message, kAllowNul)) {
    return Napi::Value();
  }
  const char* stage = "send";
  int fd = SendNotifyWithBarrier(address.c_str(), message.data(), message.size(), &stage);
  if (fd < 0) return FailureObject(env, stage, stage, errno);
  return Napi::Number::New(env, fd);
}

// awaitBarrierSync(fd, timeoutMs) -> true if the receiver released the barrier in
// time; closes fd either way. For notifySync, which may block by contract.
Napi::Value AwaitBarrierSync(const Napi::CallbackInfo& info) {
  ArgReader in(info.Env(), "awaitBarrierSync");
  int64_t fd_arg = -1;
  int64_t timeout_arg = 0;
  if (!in.ReadInt(info[0], Field{"fd"}, 0, INT32_MAX, &fd_arg) ||
      !in.ReadTruncated(info[1], Field{"timeoutMs"}, 0, INT32_MAX, &timeout_arg)) {
    return Napi::Value();
  }
  int fd = static_cast<int>(fd_arg);
  int timeout_ms = static_cast<int>(timeout_arg);
  pollfd pfd{fd, POLLIN, 0};
  int r;
  do {
    r = poll(&pfd, 1, timeout_ms);
  } while (r < 0 && errno == EINTR);
  close(fd);
  return Napi::Boolean::New(info.Env(), r > 0);
}

Napi::Value CloseNotify(const Napi::CallbackInfo& info) {
  ArgReader in(info.Env(), "closeNotifySocket");
  int64_t id = 0;
  if (!in.ReadInt(info[0], Field{"id"}, 0, UINT32_MAX, &id)) return Napi::Value();
  AddonState* state = GetState(info.Env());
  auto it = state->sockets.find(static_cast<uint32_t>(id));
  if (it != state->sockets.end()) CloseNotifySocket(it->second);
  return info.Env().Undefined();
}

}  // namespace

void RegisterNotifyExports(Napi::Env env, Napi::Object exports) {
  exports.Set("openNotifySocket", Napi::Function::New(env, OpenNotify, "openNotifySocket"));
  exports.Set("closeNotifySocket", Napi::Function::New(env, CloseNotify, "closeNotifySocket"));
  exports.Set("sendNotify", Napi::Function::New(env, SendNotify, "sendNotify"));
  exports.Set("awaitBarrierSync", Napi::Function::New(env, AwaitBarrierSync, "awaitBarrierSync"));
}

}  // namespace proclaunch
