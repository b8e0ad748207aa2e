/*
 * proclaunch-watchdog: kills a launcher's cgroup when the launching process dies,
 * however it dies (a SIGKILLed parent runs no code of its own).
 *
 *   proclaunch-watchdog <cgroup-dir> [--remove]
 *
 * Started by the launcher as its child, in a session of its own and outside the
 * cgroup. It watches its parent through a pidfd; when the parent is gone it writes
 * "1" to <cgroup-dir>/cgroup.kill (which kills every process in the subtree, setsid
 * escapees included), waits for the subtree to empty and, with --remove, removes
 * the leaf cgroups and <cgroup-dir>. SIGTERM (the launcher's dispose) ends it quietly.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int write_file(const char* dir, const char* name, const char* text) {
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = write(fd, text, strlen(text));
  close(fd);
  return n < 0 ? -1 : 0;
}

static int populated(const char* dir) {
  char path[PATH_MAX], buf[512];
  snprintf(path, sizeof path, "%s/cgroup.events", dir);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = '\0';
  return strstr(buf, "populated 1") != NULL;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static void remove_tree(const char* dir) {
  DIR* d = opendir(dir);
  if (d != NULL) {
    struct dirent* entry;
    while ((entry = readdir(d)) != NULL) {
      if (entry->d_type != DT_DIR || entry->d_name[0] == '.') continue;
      char child[PATH_MAX];
      if (snprintf(child, sizeof child, "%s/%s", dir, entry->d_name) >= (int)sizeof child) continue;
      remove_tree(child);
    }
    closedir(d);
  }
  rmdir(dir);
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: proclaunch-watchdog <cgroup-dir> [--remove]\n");
    return 2;
  }
  const char* dir = argv[1];
  int remove = argc > 2 && strcmp(argv[2], "--remove") == 0;

  pid_t parent = getppid();
  int pidfd = (int)syscall(SYS_pidfd_open, parent, 0);
  /* Re-check after opening: if the parent died first we were reparented, and the
     pidfd may name an unrelated process; act now instead. */
  if (pidfd >= 0 && getppid() == parent) {
    struct pollfd pfd = {pidfd, POLLIN, 0};
    while (poll(&pfd, 1, -1) < 0 && errno == EINTR) {
    }
  }

  if (write_file(dir, "cgroup.kill", "1") < 0) {
    /* Kernels before 5.14 have no cgroup.kill: nothing else is safe to do here. */
    fprintf(stderr, "proclaunch-watchdog: cannot write %s/cgroup.kill: %s\n", dir, strerror(errno));
    return 1;
  }
  for (int i = 0; i < 500 && populated(dir); i++) sleep_ms(10);
  if (remove) remove_tree(dir);
  return 0;
}
