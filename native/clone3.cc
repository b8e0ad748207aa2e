#include "clone3.h"

#include <errno.h>
#include <sys/syscall.h>

#if defined(__x86_64__)
// rdi = args, rsi = size, rdx = fn, rcx = arg. The child starts on its new stack with
// every other register as the parent had it; r8/r9 carry fn and arg across the
// syscall (it clobbers only rax, rcx and r11).
extern "C" long proclaunch_clone3_trampoline(void* args, size_t size, int (*fn)(void*), void* arg);
asm(R"(
  .text
  .globl proclaunch_clone3_trampoline
  .type proclaunch_clone3_trampoline, @function
proclaunch_clone3_trampoline:
  .cfi_startproc
  mov %rdx, %r8
  mov %rcx, %r9
  mov $435, %eax
  syscall
  test %rax, %rax
  jnz 1f
  .cfi_undefined rip
  xor %ebp, %ebp
  and $-16, %rsp
  mov %r9, %rdi
  call *%r8
  mov %eax, %edi
  mov $60, %eax
  syscall
  hlt
1:
  ret
  .cfi_endproc
  .size proclaunch_clone3_trampoline, .-proclaunch_clone3_trampoline
)");
#endif

namespace proclaunch {

bool HaveClone3Trampoline() {
#if defined(__x86_64__) && defined(SYS_clone3)
  static_assert(SYS_clone3 == 435, "clone3 syscall number");
  return true;
#else
  return false;
#endif
}

long Clone3WithFunction(void* args, size_t size, int (*fn)(void*), void* arg) {
#if defined(__x86_64__)
  return proclaunch_clone3_trampoline(args, size, fn, arg);
#else
  (void)args; (void)size; (void)fn; (void)arg;
  return -ENOSYS;
#endif
}

}  // namespace proclaunch
