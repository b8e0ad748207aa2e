// Small helpers shared by the files that define JS-facing functions.
#pragma once

#include <napi.h>

#include <initializer_list>

#include "addon_state.h"

namespace proclaunch {

inline AddonState* GetState(const Napi::Env& env) { return env.GetInstanceData<AddonState>(); }

struct NamedValue {
  const char* name;
  napi_value value;
};

// A result object (or, with as_array, array) built from own data properties, never by
// assignment: an inherited setter (a polluted Object.prototype) neither runs nor fails
// the call, which a failing Napi:: Set would turn into a fatal error.
Napi::Value PlainObject(Napi::Env env, std::initializer_list<NamedValue> fields, bool as_array = false);

// The failure shape every entry point returns: { errno, stage, syscall }.
Napi::Value FailureObject(Napi::Env env, const char* stage, const char* syscall_name, int err);

}  // namespace proclaunch
