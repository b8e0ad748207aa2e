// Module init, per-environment state and the JS-facing functions. Thin by design:
// TypeScript validates every option and hands over one flat object; native still
// checks every value it reads (js_args.h), so no caller can abort or corrupt the process.
#include <errno.h>
#include <napi.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include <string>
#include <vector>

#include "addon_state.h"
#include "js_args.h"
#include "js_values.h"
#include "notify_exports.h"
#include "exit_watch.h"
#include "notify_socket.h"
#include "signal.h"
#include "spawn_exports.h"
#include "spawner_client.h"

namespace proclaunch {

void AddonState::CallJs(Napi::FunctionReference& fn, std::initializer_list<napi_value> args) {
  if (tearing_down || fn.IsEmpty()) return;
  napi_value recv;
  napi_get_global(env, &recv);  // napi_make_callback wants an object receiver
  napi_value result;
  // napi_make_callback opens a callback scope and drains microtasks afterwards, so
  // promises resolved by the callback settle right away.
  napi_status status =
      napi_make_callback(env, async_context, recv, fn.Value(), args.size(), args.begin(), &result);
  if (status != napi_ok && getenv("PROCLAUNCH_DEBUG")) fprintf(stderr, "proclaunch: make_callback status %d\n", status);
  // A callback that throws is an uncaught exception, as in any event listener: hand it
  // to process 'uncaughtException' rather than leave it pending in native code. When
  // the environment can no longer run JS (a worker terminating) nothing is pending.
  bool pending = false;
  if (status != napi_ok && napi_is_exception_pending(env, &pending) == napi_ok && pending) {
    napi_value error;
    if (napi_get_and_clear_last_exception(env, &error) == napi_ok) napi_fatal_exception(env, error);
  }
}

void AddonState::HandleClosed() { ReleaseState(this); }

void ReleaseState(AddonState* state) {
  if (--state->refs == 0) {
    if (state->cleanup_hook != nullptr) napi_remove_async_cleanup_hook(state->cleanup_hook);
    delete state;
  }
}

namespace {


// Environment teardown (worker exit, process exit): kill and reap what still runs and
// close every handle; Node keeps the loop alive until the last close callback.
void OnEnvironmentTeardown(napi_async_cleanup_hook_handle handle, void* arg) {
  AddonState* state = static_cast<AddonState*>(arg);
  state->cleanup_hook = handle;
  state->tearing_down = true;
  state->on_exit.Reset();
  state->on_notify.Reset();
  StopSpawner(state);
  KillAndReapAll(state);
  while (!state->sockets.empty()) CloseNotifySocket(state->sockets.begin()->second);
  if (state->async_context != nullptr) {
    napi_async_destroy(state->env, state->async_context);
    state->async_context = nullptr;
  }
  ReleaseState(state);  // the environment's own reference
}

// The kernel's signals are 1.._NSIG-1 (64 on Linux).
constexpr int64_t kMaxSignal = 64;
constexpr int64_t kMaxId = UINT32_MAX;
constexpr int64_t kMaxFd = INT32_MAX;

// signal(id, signo, toGroup) -> true if the leader was signalled, false if it is gone.
Napi::Value Signal(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ArgReader in(env, "signal");
  int64_t id = 0;
  int64_t sig = 0;
  bool to_group = false;
  if (!in.ReadInt(info[0], Field{"id"}, 0, kMaxId, &id) || !in.ReadInt(info[1], Field{"signal"}, 1, kMaxSignal, &sig) ||
      !in.ReadBool(info[2], Field{"toGroup"}, &to_group)) {
    return Napi::Value();
  }
  AddonState* state = GetState(env);
  auto it = state->watches.find(static_cast<uint32_t>(id));
  if (it == state->watches.end()) return Napi::Boolean::New(env, false);
  return Napi::Boolean::New(env, SignalWatched(it->second, static_cast<int>(sig), to_group) == 0);
}

// setWatchRef(id, ref): whether a live proc keeps the event loop alive.
Napi::Value SetWatchRef(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ArgReader in(env, "setWatchRef");
  int64_t id = 0;
  bool ref = false;
  if (!in.ReadInt(info[0], Field{"id"}, 0, kMaxId, &id) || !in.ReadBool(info[1], Field{"ref"}, &ref)) return Napi::Value();
  AddonState* state = GetState(env);
  auto it = state->watches.find(static_cast<uint32_t>(id));
  if (it != state->watches.end()) {
    uv_handle_t* handle = reinterpret_cast<uv_handle_t*>(&it->second->poll);
    if (ref) uv_ref(handle); else uv_unref(handle);
  }
  return env.Undefined();
}

// makePipe() -> [readFd, writeFd] (both O_CLOEXEC) | { errno, stage, syscall }
Napi::Value MakePipe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) < 0) return FailureObject(env, "pipe", "pipe2", errno);
  Napi::Value result = PlainObject(env, {{"0", Napi::Number::New(env, fds[0])}, {"1", Napi::Number::New(env, fds[1])}}, true);
  if (result.IsEmpty()) {
    close(fds[0]);
    close(fds[1]);
  }
  return result;
}

// sendWithFds(socketFd, buffer, fds[]) -> bytes sent | { errno, stage, syscall }
// For D-Bus messages that carry file descriptors (SCM_RIGHTS ride with the first byte).
Napi::Value SendWithFds(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ArgReader in(env, "sendWithFds");
  constexpr uint32_t kMaxFds = 16;
  int64_t socket_fd = -1;
  void* data = nullptr;
  size_t data_length = 0;
  uint32_t count = 0;
  if (!in.ReadInt(info[0], Field{"socketFd"}, 0, kMaxFd, &socket_fd) ||
      !in.ReadBuffer(info[1], Field{"data"}, &data, &data_length) ||
      !in.ReadArray(info[2], Field{"fds"}, UINT32_MAX, &count)) {
    return Napi::Value();
  }
  // More than SCM_MAX_FD-like room is the caller's to handle (fd-passing reports it).
  if (count > kMaxFds) return FailureObject(env, "send", "sendmsg", E2BIG);
  int fds[kMaxFds];
  uint32_t read = 0;
  auto add_fd = [&fds, &read](int64_t fd) { if (read < kMaxFds) fds[read++] = static_cast<int>(fd); };
  if (!in.ReadIntList(info[2], Field{"fds"}, kMaxFds, 0, kMaxFd, add_fd)) return Napi::Value();
  count = read;  // a getter may not change the length under us
  iovec iov{data, data_length};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)] = {};
  msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (count > 0) {
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * count);
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * count);
    memcpy(CMSG_DATA(c), fds, sizeof(int) * count);
  }
  ssize_t n;
  do {
    n = sendmsg(static_cast<int>(socket_fd), &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return FailureObject(env, "send", "sendmsg", errno);
  return Napi::Number::New(env, static_cast<double>(n));
}

// setCallbacks(onExit, onNotify)
Napi::Value SetCallbacks(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ArgReader in(env, "setCallbacks");
  if (!in.ReadFunction(info[0], Field{"onExit"}) || !in.ReadFunction(info[1], Field{"onNotify"})) return Napi::Value();
  AddonState* state = GetState(env);
  state->on_exit = Napi::Persistent(info[0].As<Napi::Function>());
  state->on_notify = Napi::Persistent(info[1].As<Napi::Function>());
  return env.Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  AddonState* state = new AddonState();
  state->env = env;
  napi_get_uv_event_loop(env, &state->loop);
  napi_value resource_name = Napi::String::New(env, "proclaunch");
  napi_async_init(env, nullptr, resource_name, &state->async_context);
  // The environment does not own the state (close callbacks may outlive it): no finalizer.
  napi_set_instance_data(env, state, nullptr, nullptr);
  napi_add_async_cleanup_hook(env, OnEnvironmentTeardown, state, nullptr);

  RegisterSpawnExports(env, exports);
  exports.Set("signal", Napi::Function::New(env, Signal, "signal"));
  exports.Set("setWatchRef", Napi::Function::New(env, SetWatchRef, "setWatchRef"));
  exports.Set("makePipe", Napi::Function::New(env, MakePipe, "makePipe"));
  exports.Set("sendWithFds", Napi::Function::New(env, SendWithFds, "sendWithFds"));
  exports.Set("setCallbacks", Napi::Function::New(env, SetCallbacks, "setCallbacks"));
  RegisterNotifyExports(env, exports);
  return exports;
}

}  // namespace
}  // namespace proclaunch

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) {
  return proclaunch::Init(env, exports);
}
NODE_API_MODULE(proclaunch, InitModule)
