// The C limit for `proclaunch bench`: what launch -> exit costs with no runtime at all.
// A loop of clone(CLONE_VM|CLONE_VFORK|CLONE_PIDFD) + execve + poll(pidfd) + waitid,
// the same mechanism as the addon minus Node, N-API and the launcher's bookkeeping.
//
//   c-limit [--count N] [--inflight K] [--setup] [--program PATH]
//
// --setup also does the child-side work the addon does before exec (reset signal
// dispositions, setsid, stdin from /dev/null, close_range CLOEXEC), to tell the cost
// of that work apart from the cost of Node. Prints one JSON line on stdout:
//   {"launches":N,"elapsedMs":..,"launchesPerSec":..,"spawnCallUs":{"p50":..,"p99":..},
//    "latencyUs":{"p50":..,"p99":..},"maxBatchMs":..,"inflight":K,"setup":0|1}
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
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

enum { kStackSize = 64 * 1024 };

struct child_arg {
  const char* program;
  char* const* envp;
  int setup;
};

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int run_child(void* raw) {
  const struct child_arg* arg = raw;
  if (arg->setup) {
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; sig++) {
      if (sig != SIGKILL && sig != SIGSTOP) sigaction(sig, &dfl, NULL);
    }
    setsid();
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
  char* argv[] = {(char*)arg->program, NULL};
  execve(arg->program, argv, arg->envp);
  _exit(127);
}

// Returns the pidfd, or -1 with errno set. `call_us` gets the time spent in the call.
static int spawn_one(void* stack_top, struct child_arg* arg, double* call_us) {
  sigset_t all, previous;
  sigfillset(&all);
  double start = now_us();
  pthread_sigmask(SIG_SETMASK, &all, &previous);
  int pidfd = -1;
  pid_t pid = clone(run_child, stack_top, CLONE_VM | CLONE_VFORK | CLONE_PIDFD | SIGCHLD, arg, &pidfd);
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

int main(int argc, char** argv) {
  int count = 1000, inflight = 1, setup = 0;
  const char* program = "/bin/true";
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--count") == 0 && i + 1 < argc) count = atoi(argv[++i]);
    else if (strcmp(argv[i], "--inflight") == 0 && i + 1 < argc) inflight = atoi(argv[++i]);
    else if (strcmp(argv[i], "--program") == 0 && i + 1 < argc) program = argv[++i];
    else if (strcmp(argv[i], "--setup") == 0) setup = 1;
    else {
      fprintf(stderr, "c-limit: unknown argument %s\n", argv[i]);
      return 1;
    }
  }
  if (count < 1 || inflight < 1) {
    fprintf(stderr, "c-limit: --count and --inflight must be positive\n");
    return 1;
  }
  if (inflight > count) inflight = count;

  void* stack = mmap(NULL, kStackSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) {
    perror("c-limit: mmap");
    return 1;
  }
  extern char** environ;
  struct child_arg arg = {program, environ, setup};
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
  qsort(call_us, count, sizeof *call_us, compare_doubles);
  qsort(latency_us, count, sizeof *latency_us, compare_doubles);
  printf("{\"launches\":%d,\"elapsedMs\":%.3f,\"launchesPerSec\":%.1f,"
         "\"spawnCallUs\":{\"p50\":%.1f,\"p99\":%.1f},\"latencyUs\":{\"p50\":%.1f,\"p99\":%.1f},"
         "\"maxBatchMs\":%.3f,\"inflight\":%d,\"setup\":%d}\n",
         count, elapsed_ms, count * 1000.0 / elapsed_ms, percentile(call_us, count, 0.5),
         percentile(call_us, count, 0.99), percentile(latency_us, count, 0.5),
         percentile(latency_us, count, 0.99), max_batch_us / 1e3, inflight, setup);
  return 0;
}
