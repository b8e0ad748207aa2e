// clone3() with CLONE_VM: the child runs `fn(arg)` on the stack given in `args` and
// exits with its return value. glibc has no public clone3 wrapper, and a CLONE_VM
// child cannot return through a C wrapper's frame, so this is a small trampoline.
#pragma once

#include <stddef.h>

namespace proclaunch {

// Whether this build has the trampoline (x86_64 only for now).
bool HaveClone3Trampoline();

// Returns the child pid, or -errno. `args` is a struct clone_args.
long Clone3WithFunction(void* args, size_t size, int (*fn)(void*), void* arg);

}  // namespace proclaunch
