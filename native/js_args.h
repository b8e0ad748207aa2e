// Reading the arguments of a JS-facing function without ever aborting the process.
// With NODE_ADDON_API_DISABLE_CPP_EXCEPTIONS a failed Napi:: call on a bad value ends
// in a fatal error, so everything here uses the raw C API and checks each status: a
// pending JS exception (throwing getter, Proxy trap) is left to propagate, and a value
// of the wrong shape becomes a TypeError/RangeError naming the binding and the field,
// e.g. "spawn: plan.memNodes[0] must be an integer in 0..1023".
#pragma once

#include <node_api.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace proclaunch {

// A field for messages: "plan.argv", or with an index "plan.argv[3]".
struct Field {
  const char* name;
  int64_t index = -1;
};

// Bounds of a list of strings handed to execve (argv, envp, exec candidates): past
// them the kernel would refuse it anyway (E2BIG), so reading stops before allocating.
struct StringListLimit {
  uint32_t max_count;
  size_t max_total_bytes;  // sum of (bytes + 1 + sizeof(char*)) over the entries
};

// execve's hard ceiling whatever the stack rlimit: 3/4 of _STK_LIM (8 MiB) for the
// strings and their pointers together (fs/exec.c), each entry costing at least 9 bytes.
constexpr size_t kExecArgBytes = 6 * 1024 * 1024;
constexpr StringListLimit kExecListLimit = {kExecArgBytes / 9, kExecArgBytes};
// Any other string (a path, an address, a message): never more than execve could carry.
constexpr size_t kMaxStringBytes = kExecArgBytes;
constexpr bool kAllowNul = true;

// One reader per call. Every method returns false once something failed; a JS
// exception is then pending and the entry point must return at once (an empty value).
class ArgReader {
 public:
  ArgReader(napi_env env, const char* binding) : env_(env), binding_(binding) {}

  bool ok() const { return ok_; }

  bool IsNullish(napi_value value);
  bool ReadObject(napi_value value, Field field);
  // obj.key, propagating what a getter or Proxy trap throws.
  bool ReadProperty(napi_value object, const char* key, napi_value* out);
  bool ReadBool(napi_value value, Field field, bool* out);
  // A finite integer in [min, max].
  bool ReadInt(napi_value value, Field field, int64_t min, int64_t max, int64_t* out);
  // A finite number in [min, max], truncated toward zero (durations).
  bool ReadTruncated(napi_value value, Field field, int64_t min, int64_t max, int64_t* out);
  // A string of at most max_bytes UTF-8 bytes, without NUL unless allowed (a NUL
  // cannot cross a path or execve argument; a datagram carries it as data).
  bool ReadString(napi_value value, Field field, size_t max_bytes, std::string* out, bool allow_nul = false);
  // A real array (not a Proxy, not an array-like) of at most max_length elements.
  bool ReadArray(napi_value value, Field field, uint32_t max_length, uint32_t* length);
  bool ReadElement(napi_value array, uint32_t index, napi_value* out);
  bool ReadStringList(napi_value value, Field field, StringListLimit limit, std::vector<std::string>* out);
  // Calls on_int(value) for every element, each a finite integer in [min, max].
  template <typename OnInt>
  bool ReadIntList(napi_value value, Field field, uint32_t max_length, int64_t min, int64_t max, OnInt on_int);
  bool ReadBuffer(napi_value value, Field field, void** data, size_t* length);
  bool ReadFunction(napi_value value, Field field);

  // Throw and mark the call failed; the message is "<binding>: <field> <what>".
  bool FailType(Field field, const char* what);
  bool FailRange(Field field, const std::string& what);

 private:
  bool Fail(napi_status status);
  bool FailElementType(napi_value array, Field field, const char* what);
  std::string Describe(Field field) const;

  napi_env env_;
  const char* binding_;
  bool ok_ = true;
};

template <typename OnInt>
bool ArgReader::ReadIntList(napi_value value, Field field, uint32_t max_length, int64_t min, int64_t max,
                            OnInt on_int) {
  uint32_t length = 0;
  if (!ReadArray(value, field, max_length, &length)) return false;
  for (uint32_t i = 0; i < length; i++) {
    napi_value element;
    if (!ReadElement(value, i, &element)) return false;
    napi_valuetype type;
    if (napi_typeof(env_, element, &type) != napi_ok) return Fail(napi_generic_failure);
    if (type != napi_number) return FailElementType(value, Field{field.name, i}, "must be a number");
    int64_t n;
    if (!ReadInt(element, Field{field.name, i}, min, max, &n)) return false;
    on_int(n);
  }
  return true;
}

}  // namespace proclaunch
