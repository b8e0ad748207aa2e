// Small helpers shared by the files that define JS-facing functions.
#pragma once

#include <napi.h>

#include "addon_state.h"

namespace proclaunch {

inline AddonState* GetState(const Napi::Env& env) { return env.GetInstanceData<AddonState>(); }

// The failure shape every entry point returns: { errno, stage, syscall }.
Napi::Value FailureObject(Napi::Env env, const char* stage, const char* syscall_name, int err);

}  // namespace proclaunch
