// Module init, per-environment state and the JS-facing functions. Thin by design:
// TypeScript validates every option and hands over one flat, already-checked object.
#include <errno.h>
#include <napi.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include <string>
#include <vector>

#include "addon_state.h"
#include "js_values.h"
#include "notify_exports.h"
#include "exit_watch.h"
#include "notify_socket.h"
#include "signal.h"
#include "spawn.h"

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
  if (status == napi_pending_exception) {
    napi_value error;
    napi_get_and_clear_last_exception(env, &error);
    napi_fatal_exception(env, error);
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
  KillAndReapAll(state);
  while (!state->sockets.empty()) CloseNotifySocket(state->sockets.begin()->second);
  if (state->async_context != nullptr) {
    napi_async_destroy(state->env, state->async_context);
    state->async_context = nullptr;
  }
  ReleaseState(state);  // the environment's own reference
}

std::vector<std::string> ReadStrings(const Napi::Value& value) {
  std::vector<std::string> out;
  Napi::Array array = value.As<Napi::Array>();
  uint32_t length = array.Length();
  out.reserve(length);
  for (uint32_t i = 0; i < length; i++) out.push_back(array.Get(i).As<Napi::String>().Utf8Value());
  return out;
}

std::vector<char*> PointersOf(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

bool NameMatches(const char* entry, const std::string& name) {
  return strncmp(entry, name.data(), name.size()) == 0 && entry[name.size()] == '=';
}

// The process's own environ (the main thread's process.env is that environ), minus
// `remove` and every name `overlay` sets, then `overlay`. The environ strings are
// used in place: nothing changes them during this synchronous call.
std::vector<char*> MergeWithEnviron(std::vector<std::string>& overlay, const std::vector<std::string>& remove) {
  std::vector<std::string> skip = remove;
  for (const std::string& entry : overlay) skip.push_back(entry.substr(0, entry.find('=')));
  std::vector<char*> out;
  for (char** entry = environ; *entry != nullptr; entry++) {
    bool skipped = false;
    for (const std::string& name : skip) {
      if (NameMatches(*entry, name)) {
        skipped = true;
        break;
      }
    }
    if (!skipped) out.push_back(*entry);
  }
  for (std::string& entry : overlay) out.push_back(entry.data());
  out.push_back(nullptr);
  return out;
}

// spawn({ paths, argv, env, cwd, captureStdio, killGroupOnExit, parentDeathSignal,
//         killOnTeardown, cpus, memNodes, cgroup })
//   -> { id, pid, stdoutFd, stderrFd } | { errno, stage, syscall }
Napi::Value Spawn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AddonState* state = GetState(env);
  Napi::Object opts = info[0].As<Napi::Object>();

  std::vector<std::string> paths = ReadStrings(opts.Get("paths"));
  std::vector<std::string> argv = ReadStrings(opts.Get("argv"));
  std::vector<std::string> envp = ReadStrings(opts.Get("env"));
  std::vector<char*> path_ptrs = PointersOf(paths);
  std::vector<char*> argv_ptrs = PointersOf(argv);
  std::vector<char*> env_ptrs = opts.Get("inheritEnviron").ToBoolean()
                                    ? MergeWithEnviron(envp, ReadStrings(opts.Get("envRemove")))
                                    : PointersOf(envp);
  Napi::Value cwd_value = opts.Get("cwd");
  std::string cwd = cwd_value.IsString() ? cwd_value.As<Napi::String>().Utf8Value() : "";

  SpawnRequest request = {};
  ChildPlan& plan = request.plan;
  plan.exec_paths = path_ptrs.data();
  plan.argv = argv_ptrs.data();
  plan.envp = env_ptrs.data();
  plan.cwd = cwd_value.IsString() ? cwd.c_str() : nullptr;
  plan.cgroup_procs_fd = -1;
  Napi::Value cgroup_value = opts.Get("cgroup");
  std::string cgroup = cgroup_value.IsString() ? cgroup_value.As<Napi::String>().Utf8Value() : "";
  if (cgroup_value.IsString()) request.cgroup_path = cgroup.c_str();
  plan.parent_death_signal = opts.Get("parentDeathSignal").As<Napi::Number>().Int32Value();
  request.capture_stdio = opts.Get("captureStdio").ToBoolean();
  bool kill_group_on_exit = opts.Get("killGroupOnExit").ToBoolean();
  bool kill_on_teardown = opts.Get("killOnTeardown").ToBoolean();

  Napi::Value cpus = opts.Get("cpus");
  if (cpus.IsArray()) {
    plan.set_affinity = true;
    CPU_ZERO(&plan.affinity);
    Napi::Array list = cpus.As<Napi::Array>();
    for (uint32_t i = 0; i < list.Length(); i++) {
      CPU_SET(list.Get(i).As<Napi::Number>().Uint32Value(), &plan.affinity);
    }
  }
  Napi::Value nodes = opts.Get("memNodes");
  if (nodes.IsArray()) {
    plan.set_membind = true;
    Napi::Array list = nodes.As<Napi::Array>();
    constexpr unsigned kBits = sizeof(unsigned long) * 8;
    for (uint32_t i = 0; i < list.Length(); i++) {
      uint32_t node = list.Get(i).As<Napi::Number>().Uint32Value();
      plan.membind_mask[node / kBits] |= 1UL << (node % kBits);
    }
  }

  SpawnOutcome outcome = SpawnProc(request);
  if (outcome.failed_stage != nullptr) {
    return FailureObject(env, outcome.failed_stage, outcome.failed_syscall, outcome.err);
  }
  uint32_t id = StartWatch(state, outcome.pid, outcome.pidfd, kill_group_on_exit, kill_on_teardown);
  if (id == 0) {
    // Cannot watch it: do not leave it running unsupervised.
    int err = errno;
    KillAndReapUnwatched(outcome.pid, outcome.pidfd);
    if (outcome.stdout_fd >= 0) close(outcome.stdout_fd);
    if (outcome.stderr_fd >= 0) close(outcome.stderr_fd);
    return FailureObject(env, "watch", "uv_poll_start", err);
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("id", Napi::Number::New(env, id));
  result.Set("pid", Napi::Number::New(env, outcome.pid));
  result.Set("stdoutFd", Napi::Number::New(env, outcome.stdout_fd));
  result.Set("stderrFd", Napi::Number::New(env, outcome.stderr_fd));
  return result;
}

// signal(id, signo, toGroup) -> true if the leader was signalled, false if it is gone.
Napi::Value Signal(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AddonState* state = GetState(env);
  uint32_t id = info[0].As<Napi::Number>().Uint32Value();
  int sig = info[1].As<Napi::Number>().Int32Value();
  bool to_group = info[2].ToBoolean();
  auto it = state->watches.find(id);
  if (it == state->watches.end()) return Napi::Boolean::New(env, false);
  return Napi::Boolean::New(env, SignalWatched(it->second, sig, to_group) == 0);
}

// setWatchRef(id, ref): whether a live proc keeps the event loop alive.
Napi::Value SetWatchRef(const Napi::CallbackInfo& info) {
  AddonState* state = GetState(info.Env());
  auto it = state->watches.find(info[0].As<Napi::Number>().Uint32Value());
  if (it != state->watches.end()) {
    uv_handle_t* handle = reinterpret_cast<uv_handle_t*>(&it->second->poll);
    if (info[1].ToBoolean()) uv_ref(handle); else uv_unref(handle);
  }
  return info.Env().Undefined();
}

// makePipe() -> [readFd, writeFd] (both O_CLOEXEC) | { errno, stage, syscall }
Napi::Value MakePipe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) < 0) return FailureObject(env, "pipe", "pipe2", errno);
  Napi::Array result = Napi::Array::New(env, 2);
  result.Set(0u, Napi::Number::New(env, fds[0]));
  result.Set(1u, Napi::Number::New(env, fds[1]));
  return result;
}

// sendWithFds(socketFd, buffer, fds[]) -> bytes sent | { errno, stage, syscall }
// For D-Bus messages that carry file descriptors (SCM_RIGHTS ride with the first byte).
Napi::Value SendWithFds(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int socket_fd = info[0].As<Napi::Number>().Int32Value();
  Napi::Buffer<char> data = info[1].As<Napi::Buffer<char>>();
  Napi::Array list = info[2].As<Napi::Array>();
  constexpr uint32_t kMaxFds = 16;
  uint32_t count = list.Length();
  if (count > kMaxFds) return FailureObject(env, "send", "sendmsg", E2BIG);
  int fds[kMaxFds];
  for (uint32_t i = 0; i < count; i++) fds[i] = list.Get(i).As<Napi::Number>().Int32Value();
  iovec iov{data.Data(), data.Length()};
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
    n = sendmsg(socket_fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return FailureObject(env, "send", "sendmsg", errno);
  return Napi::Number::New(env, static_cast<double>(n));
}

Napi::Value SetCallbacks(const Napi::CallbackInfo& info) {
  AddonState* state = GetState(info.Env());
  state->on_exit = Napi::Persistent(info[0].As<Napi::Function>());
  state->on_notify = Napi::Persistent(info[1].As<Napi::Function>());
  return info.Env().Undefined();
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

  exports.Set("spawn", Napi::Function::New(env, Spawn, "spawn"));
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
