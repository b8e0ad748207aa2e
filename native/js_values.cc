#include "js_values.h"

namespace proclaunch {

Napi::Value FailureObject(Napi::Env env, const char* stage, const char* syscall_name, int err) {
  Napi::Object result = Napi::Object::New(env);
  result.Set("errno", Napi::Number::New(env, err));
  result.Set("stage", Napi::String::New(env, stage));
  result.Set("syscall", Napi::String::New(env, syscall_name));
  return result;
}

}  // namespace proclaunch
