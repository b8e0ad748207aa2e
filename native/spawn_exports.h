// The JS-facing functions that start procs: spawn (in-process), spawnAsync (through the
// spawn server) and stopSpawner. Each reads and checks the whole plan before acting.
#pragma once

#include <napi.h>

namespace proclaunch {

void RegisterSpawnExports(Napi::Env env, Napi::Object exports);

}  // namespace proclaunch
