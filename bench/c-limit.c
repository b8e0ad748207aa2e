// The C limit for `proclaunch bench`: what launch -> exit costs with no runtime at all.
// A loop of clone(CLONE_VM|CLONE_VFORK|CLONE_PIDFD) + execve + poll(pidfd) + waitid,
// the same mechanism as the addon minus Node, N-API and the launcher's bookkeeping.
//
//   c-limit [--count N] [--inflight K] [--setup] [--setsid] [--unshare] [--idle N] [--program PATH]
//
// --setup also does the child-side work the addon does before exec (reset signal
// dispositions, setpgid(0, 0), stdin from /dev/null, close_range CLOEXEC), to tell the cost
// of that work apart from the cost of Node. --setsid (implies --setup) calls setsid()
// instead of setpgid, as the addon does with newSession: on a CONFIG_SCHED_AUTOGROUP
// kernel that also creates an autogroup, which the vfork parent waits for.
// --idle N first starts N idle `sleep` children and holds their pidfds for the whole
// run (the idle-scaling scenario's kernel floor); they are SIGKILLed at the end.
// --unshare clones with CLONE_FILES and makes the child's first act
// close_range(3, ~0, CLOSE_RANGE_UNSHARE): it gets a private fd table of 3 entries
// instead of a copy of all of ours, which execve would then close one by one.
// Prints one JSON line on stdout:
//   {"launches":N,"elapsedMs":..,"launchesPerSec":..,"spawnCallUs":{"p50":..,"p99":..},
//    "latencyUs":{"p50":..,"p99":..},"maxBatchMs":..,"cpuMs":..,"inflight":K,"setup":0|1,"unshare":0|1,"idle":N}
// cpuMs is this process's own CPU time (user + system, not its children's) over the
// launches: what the launching loop itself costs the machine.
// maxBatchMs is the longest time spent handling one poll() wake-up (reap + respawn of
// every ready child): what a timer in an event loop built this way could be delayed by.
// Exit status 0 on success; any failure prints a message on stderr and exits 1.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_UNSHARE
#define CLOSE_RANGE_UNSHARE (1U << 1)
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

enum { kStackSize = 64 * 1024 };

struct child_arg {
  char* const* argv;
  char* const* envp;
  int setup;
  int unshare;
  int parent_death_kill;
};

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int run_child(void* raw) {
  const struct child_arg* arg = raw;
  if (arg->unshare) syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_UNSHARE);
  if (arg->parent_death_kill) prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (arg->setup) {
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; sig++) {
      if (sig != SIGKILL && sig != SIGSTOP) sigaction(sig, &dfl, NULL);
    }
    if (arg->setup == 2) setsid();
    else setpgid(0, 0);
    int null_fd = open("/dev/null", O_RDWR);
    if (null_fd > 0) {
      dup2(null_fd, 0);
      close(null_fd);
    }
    syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
  }
  sigset_t empty;
  sigemptyset(&empty);
  sigprocmask(SIG_SETMASK, &empty, NULL);
  execve(arg->argv[0], arg->argv, arg->envp);
  _exit(127);
}

// Returns the pidfd, or -1 with errno set. `call_us` gets the time spent in the call.
static int spawn_one(void* stack_top, struct child_arg* arg, double* call_us) {
  sigset_t all, previous;
  sigfillset(&all);
  double start = now_us();
  pthread_sigmask(SIG_SETMASK, &all, &previous);
  int pidfd = -1;
  int flags = CLONE_VM | CLONE_VFORK | CLONE_PIDFD | (arg->unshare ? CLONE_FILES : 0) | SIGCHLD;
  pid_t pid = clone(run_child, stack_top, flags, arg, &pidfd);
  int saved = errno;
  pthread_sigmask(SIG_SETMASK, &previous, NULL);
  *call_us = now_us() - start;
  if (pid < 0) {
    errno = saved;
    return -1;
  }
  return pidfd;
}

// Reaps the child behind a readable pidfd; returns its wait status or -1.
static int reap(int pidfd) {
  siginfo_t info;
  memset(&info, 0, sizeof info);
  long r;
  do {
    r = syscall(SYS_waitid, P_PIDFD, pidfd, &info, WEXITED, NULL);
  } while (r < 0 && errno == EINTR);
  close(pidfd);
  if (r < 0) return -1;
  return info.si_code == CLD_EXITED ? info.si_status : 128 + info.si_status;
}

static int compare_doubles(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return (x > y) - (x < y);
}

static double percentile(double* sorted, int n, double p) {
  if (n == 0) return 0;
  int index = (int)(p * (n - 1) + 0.5);
  return sorted[index];
}

static double timeval_us(const struct timeval* tv) { return tv->tv_sec * 1e6 + tv->tv_usec; }

int main(int argc, char** argv) {
  int count = 1000, inflight = 1, setup = 0, unshare = 0, idle = 0;
  const char* program = "/bin/true";
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--count") == 0 && i + 1 < argc) count = atoi(argv[++i]);
    else if (strcmp(argv[i], "--inflight") == 0 && i + 1 < argc) inflight = atoi(argv[++i]);
    else if (strcmp(argv[i], "--program") == 0 && i + 1 < argc) program = argv[++i];
    else if (strcmp(argv[i], "--idle") == 0 && i + 1 < argc) idle = atoi(argv[++i]);
    else if (strcmp(argv[i], "--setup") == 0) setup = setup == 0 ? 1 : setup;
    else if (strcmp(argv[i], "--setsid") == 0) setup = 2;
    else if (strcmp(argv[i], "--unshare") == 0) unshare = 1;
    else {
      fprintf(stderr, "c-limit: unknown argument %s\n", argv[i]);
      return 1;
    }
  }
  if (count < 1 || inflight < 1 || idle < 0) {
    fprintf(stderr, "c-limit: --count and --inflight must be positive, --idle not negative\n");
    return 1;
  }
  if (inflight > count) inflight = count;

  void* stack = mmap(NULL, kStackSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) {
    perror("c-limit: mmap");
    return 1;
  }
  extern char** environ;
  char* run_argv[] = {(char*)program, NULL};
  struct child_arg arg = {run_argv, environ, setup, unshare, 0};
  int* idle_fds = calloc(idle > 0 ? idle : 1, sizeof *idle_fds);
  char* idle_argv[] = {"/bin/sleep", "1800", NULL};
  if (access(idle_argv[0], X_OK) != 0) idle_argv[0] = "/usr/bin/sleep";
  // Idle children die with us even if we are killed (PR_SET_PDEATHSIG).
  struct child_arg idle_arg = {idle_argv, environ, 0, unshare, 1};
  for (int i = 0; i < idle; i++) {
    double ignored;
    idle_fds[i] = spawn_one((char*)stack + kStackSize, &idle_arg, &ignored);
    if (idle_fds[i] < 0) {
      perror("c-limit: clone (idle)");
      return 1;
    }
  }
  double* call_us = calloc(count, sizeof *call_us);
  double* latency_us = calloc(count, sizeof *latency_us);
  struct pollfd* fds = calloc(inflight, sizeof *fds);
  double* started = calloc(inflight, sizeof *started);
  if (!call_us || !latency_us || !fds || !started) {
    fprintf(stderr, "c-limit: out of memory\n");
    return 1;
  }

  int launched = 0, done = 0;
  double max_batch_us = 0;
  struct rusage usage_before;
  getrusage(RUSAGE_SELF, &usage_before);
  double begin = now_us();
  for (int slot = 0; slot < inflight; slot++) {
    started[slot] = now_us();
    fds[slot].fd = spawn_one((char*)stack + kStackSize, &arg, &call_us[launched]);
    fds[slot].events = POLLIN;
    if (fds[slot].fd < 0) {
      perror("c-limit: clone");
      return 1;
    }
    launched++;
  }
  while (done < count) {
    int ready = poll(fds, inflight, -1);
    if (ready < 0) {
      if (errno == EINTR) continue;
      perror("c-limit: poll");
      return 1;
    }
    double batch_start = now_us();
    for (int slot = 0; slot < inflight; slot++) {
      if (fds[slot].fd < 0 || !(fds[slot].revents & POLLIN)) continue;
      int status = reap(fds[slot].fd);
      latency_us[done++] = now_us() - started[slot];
      if (status != 0) {
        fprintf(stderr, "c-limit: %s exited with status %d\n", program, status);
        return 1;
      }
      fds[slot].fd = -1;
      if (launched < count) {
        started[slot] = now_us();
        fds[slot].fd = spawn_one((char*)stack + kStackSize, &arg, &call_us[launched]);
        if (fds[slot].fd < 0) {
          perror("c-limit: clone");
          return 1;
        }
        launched++;
      }
    }
    double batch_us = now_us() - batch_start;
    if (batch_us > max_batch_us) max_batch_us = batch_us;
  }
  double elapsed_ms = (now_us() - begin) / 1e3;
  struct rusage usage_after;
  getrusage(RUSAGE_SELF, &usage_after);
  double cpu_ms = (timeval_us(&usage_after.ru_utime) - timeval_us(&usage_before.ru_utime) +
                   timeval_us(&usage_after.ru_stime) - timeval_us(&usage_before.ru_stime)) / 1e3;
  for (int i = 0; i < idle; i++) {
    syscall(SYS_pidfd_send_signal, idle_fds[i], SIGKILL, NULL, 0);
    reap(idle_fds[i]);
  }
  qsort(call_us, count, sizeof *call_us, compare_doubles);
  qsort(latency_us, count, sizeof *latency_us, compare_doubles);
  printf("{\"launches\":%d,\"elapsedMs\":%.3f,\"launchesPerSec\":%.1f,"
         "\"spawnCallUs\":{\"p50\":%.1f,\"p99\":%.1f},\"latencyUs\":{\"p50\":%.1f,\"p99\":%.1f},"
         "\"maxBatchMs\":%.3f,\"cpuMs\":%.3f,\"inflight\":%d,\"setup\":%d,\"unshare\":%d,\"idle\":%d}\n",
         count, elapsed_ms, count * 1000.0 / elapsed_ms, percentile(call_us, count, 0.5),
         percentile(call_us, count, 0.99), percentile(latency_us, count, 0.5),
         percentile(latency_us, count, 0.99), max_batch_us / 1e3, cpu_ms, inflight, setup, unshare, idle);
  return 0;
}
