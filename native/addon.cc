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
#include "spawn.h"
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

// The kernel's signals are 1.._NSIG-1 (64 on Linux).
constexpr int64_t kMaxSignal = 64;
constexpr int64_t kMaxId = UINT32_MAX;
constexpr int64_t kMaxFd = INT32_MAX;

// What spawn reads from its plan: the strings live here until SpawnProc returns.
struct SpawnArgs {
  std::vector<std::string> paths;
  std::vector<std::string> argv;
  std::vector<std::string> env;
  std::vector<std::string> env_remove;
  std::string cwd;
  std::string cgroup;
  bool has_cwd = false;
  bool has_cgroup = false;
  bool inherit_environ = false;
  bool capture_stdio = false;
  bool kill_group_on_exit = false;
  bool kill_on_teardown = false;
};

bool ReadBoolField(ArgReader& in, napi_value plan, const char* key, const char* name, bool* out) {
  napi_value value;
  return in.ReadProperty(plan, key, &value) && in.ReadBool(value, Field{name}, out);
}

bool ReadStringListField(ArgReader& in, napi_value plan, const char* key, const char* name,
                         std::vector<std::string>* out) {
  napi_value value;
  return in.ReadProperty(plan, key, &value) && in.ReadStringList(value, Field{name}, kExecListLimit, out);
}

// null or undefined: not given.
bool ReadOptionalStringField(ArgReader& in, napi_value plan, const char* key, const char* name,
                             std::string* out, bool* present) {
  napi_value value;
  if (!in.ReadProperty(plan, key, &value)) return false;
  *present = !in.IsNullish(value);
  return !*present || in.ReadString(value, Field{name}, kMaxStringBytes, out);
}

// Every field is checked before anything is done: a bad plan starts nothing.
bool ReadSpawnPlan(ArgReader& in, napi_value plan, SpawnArgs* args, ChildPlan* child) {
  if (!in.ReadObject(plan, Field{"plan"})) return false;
  if (!ReadStringListField(in, plan, "paths", "plan.paths", &args->paths) ||
      !ReadStringListField(in, plan, "argv", "plan.argv", &args->argv) ||
      !ReadStringListField(in, plan, "env", "plan.env", &args->env) ||
      !ReadBoolField(in, plan, "inheritEnviron", "plan.inheritEnviron", &args->inherit_environ)) {
    return false;
  }
  if (args->inherit_environ && !ReadStringListField(in, plan, "envRemove", "plan.envRemove", &args->env_remove)) {
    return false;
  }
  if (!ReadOptionalStringField(in, plan, "cwd", "plan.cwd", &args->cwd, &args->has_cwd) ||
      !ReadOptionalStringField(in, plan, "cgroup", "plan.cgroup", &args->cgroup, &args->has_cgroup) ||
      !ReadBoolField(in, plan, "captureStdio", "plan.captureStdio", &args->capture_stdio) ||
      !ReadBoolField(in, plan, "killGroupOnExit", "plan.killGroupOnExit", &args->kill_group_on_exit) ||
      !ReadBoolField(in, plan, "killOnTeardown", "plan.killOnTeardown", &args->kill_on_teardown)) {
    return false;
  }
  // Optional (undefined: a process group only), like stdin and rlimits.
  napi_value value;
  if (!in.ReadProperty(plan, "newSession", &value)) return false;
  if (!in.IsNullish(value) && !in.ReadBool(value, Field{"plan.newSession"}, &child->new_session)) return false;
  int64_t death_signal = 0;
  if (!in.ReadProperty(plan, "parentDeathSignal", &value) ||
      !in.ReadInt(value, Field{"plan.parentDeathSignal"}, 0, kMaxSignal, &death_signal)) {
    return false;
  }
  child->parent_death_signal = static_cast<int>(death_signal);

  if (!in.ReadProperty(plan, "cpus", &value)) return false;
  if (!in.IsNullish(value)) {
    child->set_affinity = true;
    CPU_ZERO(&child->affinity);
    auto set_cpu = [child](int64_t cpu) { CPU_SET(static_cast<size_t>(cpu), &child->affinity); };
    if (!in.ReadIntList(value, Field{"plan.cpus"}, CPU_SETSIZE, 0, CPU_SETSIZE - 1, set_cpu)) return false;
  }
  int64_t stdin_mode = 0;
  if (!in.ReadProperty(plan, "stdin", &value)) return false;
  if (!in.IsNullish(value) && !in.ReadInt(value, Field{"plan.stdin"}, kStdinNull, kStdinPipe, &stdin_mode)) return false;
  child->stdin_mode = static_cast<int>(stdin_mode);
  // [resource, soft, hard, ...]; -1 is RLIM_INFINITY (a JS number cannot hold 2^64-1).
  if (!in.ReadProperty(plan, "rlimits", &value)) return false;
  if (!in.IsNullish(value)) {
    constexpr int64_t kMaxLimit = (int64_t{1} << 53) - 1;
    int64_t seen = 0;
    bool bad_resource = false;
    auto add = [child, &seen, &bad_resource](int64_t n) {
      RlimitEntry& entry = child->rlimits[seen / 3];
      int part = static_cast<int>(seen % 3);
      uint64_t limit = n < 0 ? RLIM_INFINITY : static_cast<uint64_t>(n);
      if (part == 0) {
        if (n < 0 || n >= RLIM_NLIMITS) bad_resource = true;
        entry.resource = static_cast<int>(n);
      } else if (part == 1) {
        entry.soft = limit;
      } else {
        entry.hard = limit;
      }
      seen++;
    };
    if (!in.ReadIntList(value, Field{"plan.rlimits"}, kMaxRlimits * 3, -1, kMaxLimit, add)) return false;
    if (seen % 3 != 0) return in.FailRange(Field{"plan.rlimits"}, "must hold [resource, soft, hard] triples");
    if (bad_resource) return in.FailRange(Field{"plan.rlimits"}, "names a resource outside 0..RLIM_NLIMITS-1");
    child->rlimit_count = static_cast<int>(seen / 3);
  }
  if (!in.ReadProperty(plan, "memNodes", &value)) return false;
  if (!in.IsNullish(value)) {
    child->set_membind = true;
    constexpr int64_t kWordBits = sizeof(unsigned long) * 8;
    constexpr int64_t kMaskBits = sizeof child->membind_mask * 8;
    auto set_node = [child](int64_t node) { child->membind_mask[node / kWordBits] |= 1UL << (node % kWordBits); };
    if (!in.ReadIntList(value, Field{"plan.memNodes"}, kMaskBits, 0, kMaskBits - 1, set_node)) return false;
  }
  return true;
}

// spawn({ paths, argv, env, inheritEnviron, envRemove, cwd, captureStdio, killGroupOnExit,
//         parentDeathSignal, killOnTeardown, cpus, memNodes, cgroup, stdin, rlimits, newSession })
//   -> { id, pid, stdoutFd, stderrFd, stdinFd } | { errno, stage, syscall }
// In-process: the calling thread clones and waits for the child's exec.
Napi::Value Spawn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AddonState* state = GetState(env);
  ArgReader in(env, "spawn");
  SpawnRequest request = {};
  ChildPlan& plan = request.plan;
  SpawnArgs args;
  if (!ReadSpawnPlan(in, info[0], &args, &plan)) return Napi::Value();

  std::vector<char*> path_ptrs = PointersOf(args.paths);
  std::vector<char*> argv_ptrs = PointersOf(args.argv);
  std::vector<char*> env_ptrs = args.inherit_environ ? MergeWithEnviron(args.env, args.env_remove) : PointersOf(args.env);
  plan.exec_paths = path_ptrs.data();
  plan.argv = argv_ptrs.data();
  plan.envp = env_ptrs.data();
  plan.cwd = args.has_cwd ? args.cwd.c_str() : nullptr;
  plan.cgroup_procs_fd = -1;
  if (args.has_cgroup) request.cgroup_path = args.cgroup.c_str();
  request.capture_stdio = args.capture_stdio;

  SpawnOutcome outcome = SpawnProc(request);
  if (outcome.failed_stage != nullptr) {
    return FailureObject(env, outcome.failed_stage, outcome.failed_syscall, outcome.err);
  }
  return WatchSpawned(env, state, outcome, args.kill_group_on_exit, args.kill_on_teardown);
}

// spawnAsync(plan) -> Promise<spawn's result>: the same plan and result, but the spawn
// server clones the child (spawner_client.h); the loop only sends it a datagram. A
// plan too large for one datagram is spawned in-process (the promise is then settled).
Napi::Value SpawnAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AddonState* state = GetState(env);
  ArgReader in(env, "spawnAsync");
  SpawnRequest request = {};
  ChildPlan& plan = request.plan;
  SpawnArgs args;
  if (!ReadSpawnPlan(in, info[0], &args, &plan)) return Napi::Value();

  std::vector<char*> path_ptrs = PointersOf(args.paths);
  std::vector<char*> argv_ptrs = PointersOf(args.argv);
  std::vector<char*> env_ptrs = args.inherit_environ ? MergeWithEnviron(args.env, args.env_remove) : PointersOf(args.env);
  plan.exec_paths = path_ptrs.data();
  plan.argv = argv_ptrs.data();
  plan.envp = env_ptrs.data();
  plan.cwd = args.has_cwd ? args.cwd.c_str() : nullptr;
  plan.cgroup_procs_fd = -1;
  if (args.has_cgroup) request.cgroup_path = args.cgroup.c_str();
  request.capture_stdio = args.capture_stdio;

  napi_deferred deferred;
  napi_value promise;
  if (napi_create_promise(env, &deferred, &promise) != napi_ok) return Napi::Value();
  AsyncSpawn spawn{&plan, args.capture_stdio, request.cgroup_path, args.kill_group_on_exit, args.kill_on_teardown};
  SpawnOutcome failure;
  Submitted submitted = SubmitSpawn(state, spawn, deferred, &failure);
  if (submitted == Submitted::kSent) return Napi::Value(env, promise);
  napi_value result;
  if (submitted == Submitted::kFailed) {
    result = FailureObject(env, failure.failed_stage, failure.failed_syscall, failure.err);
  } else {
    SpawnOutcome outcome = SpawnProc(request);
    result = outcome.failed_stage != nullptr
                 ? FailureObject(env, outcome.failed_stage, outcome.failed_syscall, outcome.err)
                 : WatchSpawned(env, state, outcome, args.kill_group_on_exit, args.kill_on_teardown);
  }
  if (result == nullptr) {
    // An exception is pending (building the result failed): reject with it.
    napi_value error;
    napi_get_and_clear_last_exception(env, &error);
    napi_reject_deferred(env, deferred, error);
  } else {
    napi_resolve_deferred(env, deferred, result);
  }
  return Napi::Value(env, promise);
}

// stopSpawner() -> true when the spawn server is gone (reaped, its fds closed), false
// while launches are in flight through it.
Napi::Value StopSpawnerNow(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), StopIdleSpawner(GetState(info.Env())));
}

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

  exports.Set("spawn", Napi::Function::New(env, Spawn, "spawn"));
  exports.Set("spawnAsync", Napi::Function::New(env, SpawnAsync, "spawnAsync"));
  exports.Set("stopSpawner", Napi::Function::New(env, StopSpawnerNow, "stopSpawner"));
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
