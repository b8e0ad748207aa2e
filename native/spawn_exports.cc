#include "spawn_exports.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "js_args.h"
#include "js_values.h"
#include "spawn.h"
#include "spawner_client.h"

namespace proclaunch {
namespace {

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

// A spawn plan read and pointed into: the request's pointers refer to `args` and the
// pointer vectors, so a PreparedSpawn is filled in place and never moved.
struct PreparedSpawn {
  SpawnArgs args;
  SpawnRequest request = {};
  std::vector<char*> path_ptrs;
  std::vector<char*> argv_ptrs;
  std::vector<char*> env_ptrs;
};

// Reads the plan (spawn and spawnAsync take the same one) and builds the request.
bool PrepareSpawn(ArgReader& in, Napi::Value plan_value, PreparedSpawn* out) {
  SpawnArgs& args = out->args;
  ChildPlan& plan = out->request.plan;
  if (!ReadSpawnPlan(in, plan_value, &args, &plan)) return false;
  out->path_ptrs = PointersOf(args.paths);
  out->argv_ptrs = PointersOf(args.argv);
  out->env_ptrs = args.inherit_environ ? MergeWithEnviron(args.env, args.env_remove) : PointersOf(args.env);
  plan.exec_paths = out->path_ptrs.data();
  plan.argv = out->argv_ptrs.data();
  plan.envp = out->env_ptrs.data();
  plan.cwd = args.has_cwd ? args.cwd.c_str() : nullptr;
  plan.cgroup_procs_fd = -1;
  if (args.has_cgroup) out->request.cgroup_path = args.cgroup.c_str();
  out->request.capture_stdio = args.capture_stdio;
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
  PreparedSpawn prepared;
  if (!PrepareSpawn(in, info[0], &prepared)) return Napi::Value();
  SpawnRequest& request = prepared.request;
  const SpawnArgs& args = prepared.args;

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
  PreparedSpawn prepared;
  if (!PrepareSpawn(in, info[0], &prepared)) return Napi::Value();
  SpawnRequest& request = prepared.request;
  const SpawnArgs& args = prepared.args;
  ChildPlan& plan = request.plan;

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


}  // namespace

void RegisterSpawnExports(Napi::Env env, Napi::Object exports) {
  exports.Set("spawn", Napi::Function::New(env, Spawn, "spawn"));
  exports.Set("spawnAsync", Napi::Function::New(env, SpawnAsync, "spawnAsync"));
  exports.Set("stopSpawner", Napi::Function::New(env, StopSpawnerNow, "stopSpawner"));
}

}  // namespace proclaunch
