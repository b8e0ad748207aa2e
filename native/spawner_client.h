// The addon's side of the spawn server (spawner.cc): started on the first launch of an
// environment, fed one datagram per launch from the event loop, its replies read by a
// uv_poll on the socket and turned into settled promises there.
#pragma once

#include <napi.h>

#include "addon_state.h"
#include "spawn.h"

namespace proclaunch {

// What a launch needs besides the plan's strings and values.
struct AsyncSpawn {
  ChildPlan* plan;        // exec_paths, argv, envp, cwd and the values; fds are ours to fill
  bool capture_stdio;
  const char* cgroup_path;  // nullptr: none
  bool kill_group_on_exit;
  bool kill_on_teardown;
};

enum class Submitted {
  kSent,      // the deferred settles when the reply comes
  kTooLarge,  // the plan does not fit a datagram (or the server cannot take it now): spawn it in-process
  kFailed,    // *failure says why; nothing was started
};

Submitted SubmitSpawn(AddonState* state, const AsyncSpawn& spawn, napi_deferred deferred, SpawnOutcome* failure);

// Watches a started child and builds spawn's result object (or a failure when it cannot
// be watched: then the child is killed and reaped, and its pipe ends closed).
Napi::Value WatchSpawned(Napi::Env env, AddonState* state, SpawnOutcome& outcome, bool kill_group_on_exit,
                         bool kill_on_teardown);

// Ends the server now if it has no launch in flight (the next launch starts another):
// its socket and pidfd are closed and it is reaped before this returns. False when
// launches are still in flight.
bool StopIdleSpawner(AddonState* state);

// Environment teardown: lets the server finish what it was sent, kills and reaps (or,
// for kill_on_teardown false, lets go) what it started, then waits for it to exit.
void StopSpawner(AddonState* state);

}  // namespace proclaunch
