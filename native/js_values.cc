#include "js_values.h"

namespace proclaunch {

Napi::Value PlainObject(Napi::Env env, std::initializer_list<NamedValue> fields, bool as_array) {
  constexpr size_t kMaxFields = 8;
  napi_value object;
  napi_status status = as_array ? napi_create_array_with_length(env, fields.size(), &object) : napi_create_object(env, &object);
  if (status != napi_ok || fields.size() > kMaxFields) return Napi::Value();
  napi_property_descriptor descriptors[kMaxFields] = {};
  size_t count = 0;
  for (const NamedValue& field : fields) {
    descriptors[count].utf8name = field.name;
    descriptors[count].value = field.value;
    descriptors[count].attributes = napi_default_jsproperty;
    count++;
  }
  if (napi_define_properties(env, object, count, descriptors) != napi_ok) return Napi::Value();
  return Napi::Value(env, object);
}

Napi::Value FailureObject(Napi::Env env, const char* stage, const char* syscall_name, int err) {
  return PlainObject(env, {{"errno", Napi::Number::New(env, err)},
                           {"stage", Napi::String::New(env, stage)},
                           {"syscall", Napi::String::New(env, syscall_name)}});
}

}  // namespace proclaunch
