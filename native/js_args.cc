#include "js_args.h"

#include <cmath>
#include <cstring>

namespace proclaunch {

bool ArgReader::Fail(napi_status status) {
  ok_ = false;
  bool pending = false;
  napi_is_exception_pending(env_, &pending);
  // A throwing getter or Proxy trap: its exception is what the caller sees.
  if (pending) return false;
  std::string message = std::string(binding_) + ": could not read its arguments (napi status " +
                        std::to_string(static_cast<int>(status)) + ")";
  napi_throw_type_error(env_, nullptr, message.c_str());
  return false;
}

std::string ArgReader::Describe(Field field) const {
  std::string out = std::string(binding_) + ": " + field.name;
  if (field.index >= 0) out += "[" + std::to_string(field.index) + "]";
  return out;
}

bool ArgReader::FailType(Field field, const char* what) {
  if (!ok_) return false;
  ok_ = false;
  std::string message = Describe(field) + " " + what;
  napi_throw_type_error(env_, nullptr, message.c_str());
  return false;
}

bool ArgReader::FailRange(Field field, const std::string& what) {
  if (!ok_) return false;
  ok_ = false;
  std::string message = Describe(field) + " " + what;
  napi_throw_range_error(env_, nullptr, message.c_str());
  return false;
}

// Only on the error path: tell a hole (sparse array) from a wrong value.
bool ArgReader::FailElementType(napi_value array, Field field, const char* what) {
  napi_value key;
  bool own = true;
  std::string index = std::to_string(field.index);
  if (napi_create_string_utf8(env_, index.data(), index.size(), &key) == napi_ok &&
      napi_has_own_property(env_, array, key, &own) == napi_ok && !own) {
    return FailType(field, "is a hole (sparse arrays are not accepted)");
  }
  bool pending = false;
  napi_is_exception_pending(env_, &pending);
  if (pending) {
    napi_value ignored;
    napi_get_and_clear_last_exception(env_, &ignored);
  }
  return FailType(field, what);
}

bool ArgReader::IsNullish(napi_value value) {
  napi_valuetype type;
  if (napi_typeof(env_, value, &type) != napi_ok) return false;
  return type == napi_undefined || type == napi_null;
}

bool ArgReader::ReadObject(napi_value value, Field field) {
  if (!ok_) return false;
  napi_valuetype type;
  if (napi_typeof(env_, value, &type) != napi_ok) return Fail(napi_generic_failure);
  if (type != napi_object) return FailType(field, "must be an object");
  return true;
}

bool ArgReader::ReadProperty(napi_value object, const char* key, napi_value* out) {
  if (!ok_) return false;
  napi_status status = napi_get_named_property(env_, object, key, out);
  if (status != napi_ok) return Fail(status);
  return true;
}

bool ArgReader::ReadBool(napi_value value, Field field, bool* out) {
  if (!ok_) return false;
  napi_status status = napi_get_value_bool(env_, value, out);
  if (status == napi_boolean_expected) return FailType(field, "must be a boolean");
  if (status != napi_ok) return Fail(status);
  return true;
}

bool ArgReader::ReadInt(napi_value value, Field field, int64_t min, int64_t max, int64_t* out) {
  if (!ok_) return false;
  double d;
  napi_status status = napi_get_value_double(env_, value, &d);
  if (status == napi_number_expected) return FailType(field, "must be a number");
  if (status != napi_ok) return Fail(status);
  // The comparisons are false for NaN, so NaN and +-Infinity fall through to the error.
  if (d >= static_cast<double>(min) && d <= static_cast<double>(max) && std::trunc(d) == d) {
    *out = static_cast<int64_t>(d);
    return true;
  }
  return FailRange(field, "must be an integer in " + std::to_string(min) + ".." + std::to_string(max));
}

bool ArgReader::ReadTruncated(napi_value value, Field field, int64_t min, int64_t max, int64_t* out) {
  if (!ok_) return false;
  double d;
  napi_status status = napi_get_value_double(env_, value, &d);
  if (status == napi_number_expected) return FailType(field, "must be a number");
  if (status != napi_ok) return Fail(status);
  if (d >= static_cast<double>(min) && d <= static_cast<double>(max)) {
    *out = static_cast<int64_t>(d);
    return true;
  }
  return FailRange(field, "must be a finite number in " + std::to_string(min) + ".." + std::to_string(max));
}

bool ArgReader::ReadString(napi_value value, Field field, size_t max_bytes, std::string* out, bool allow_nul) {
  if (!ok_) return false;
  size_t length = 0;
  napi_status status = napi_get_value_string_utf8(env_, value, nullptr, 0, &length);
  if (status == napi_string_expected) return FailType(field, "must be a string");
  if (status != napi_ok) return Fail(status);
  if (length > max_bytes) {
    return FailRange(field, "must be at most " + std::to_string(max_bytes) + " bytes, got " + std::to_string(length));
  }
  out->resize(length);
  size_t copied = 0;
  // resize() leaves room for the terminator, which napi writes.
  status = napi_get_value_string_utf8(env_, value, out->data(), length + 1, &copied);
  if (status != napi_ok) return Fail(status);
  out->resize(copied);
  if (!allow_nul && memchr(out->data(), '\0', copied) != nullptr) return FailRange(field, "must not contain a NUL byte");
  return true;
}

bool ArgReader::ReadArray(napi_value value, Field field, uint32_t max_length, uint32_t* length) {
  if (!ok_) return false;
  bool is_array = false;
  if (napi_is_array(env_, value, &is_array) != napi_ok) return Fail(napi_generic_failure);
  // napi_is_array is false for a Proxy and for array-likes: only real arrays pass.
  if (!is_array) return FailType(field, "must be an array");
  napi_status status = napi_get_array_length(env_, value, length);
  if (status != napi_ok) return Fail(status);
  if (*length > max_length) {
    return FailRange(field, "must have at most " + std::to_string(max_length) + " elements, got " + std::to_string(*length));
  }
  return true;
}

bool ArgReader::ReadElement(napi_value array, uint32_t index, napi_value* out) {
  if (!ok_) return false;
  // An accessor defined on an index can throw: propagate it.
  napi_status status = napi_get_element(env_, array, index, out);
  if (status != napi_ok) return Fail(status);
  return true;
}

bool ArgReader::ReadStringList(napi_value value, Field field, StringListLimit limit, std::vector<std::string>* out) {
  uint32_t length = 0;
  if (!ReadArray(value, field, limit.max_count, &length)) return false;
  out->reserve(length);
  size_t total = 0;
  for (uint32_t i = 0; i < length; i++) {
    napi_value element;
    if (!ReadElement(value, i, &element)) return false;
    napi_valuetype type;
    if (napi_typeof(env_, element, &type) != napi_ok) return Fail(napi_generic_failure);
    if (type != napi_string) return FailElementType(value, Field{field.name, i}, "must be a string");
    out->emplace_back();
    if (!ReadString(element, Field{field.name, i}, limit.max_total_bytes - total, &out->back())) return false;
    total += out->back().size() + 1 + sizeof(char*);
    if (total > limit.max_total_bytes) {
      return FailRange(field, "must total at most " + std::to_string(limit.max_total_bytes) +
                                  " bytes (strings and pointers, as execve counts them)");
    }
  }
  return true;
}

bool ArgReader::ReadBuffer(napi_value value, Field field, void** data, size_t* length) {
  if (!ok_) return false;
  bool is_buffer = false;
  if (napi_is_buffer(env_, value, &is_buffer) != napi_ok) return Fail(napi_generic_failure);
  if (!is_buffer) return FailType(field, "must be a Buffer");
  napi_status status = napi_get_buffer_info(env_, value, data, length);
  if (status != napi_ok) return Fail(status);
  return true;
}

bool ArgReader::ReadFunction(napi_value value, Field field) {
  if (!ok_) return false;
  napi_valuetype type;
  if (napi_typeof(env_, value, &type) != napi_ok) return Fail(napi_generic_failure);
  if (type != napi_function) return FailType(field, "must be a function");
  return true;
}

}  // namespace proclaunch
