/*
 * proclaunch-watchdog: kills a launcher's own cgroup directory when the launching
 * process dies, however it dies (a SIGKILLed parent runs no code of its own).
 *
 *   proclaunch-watchdog <own-cgroup-dir> [--remove-parent]
 *
 * <own-cgroup-dir> is ROOT/proclaunch-<pid>-<random>, which only this launcher uses;
 * ROOT itself may hold other launchers' directories and other applications' cgroups,
 * so nothing outside <own-cgroup-dir> is ever killed. Started by the launcher as its
 * child, in a session of its own and outside the cgroup. It opens the directory at
 * once (so a later directory of the same name is never mistaken for it) and watches
 * its parent through a pidfd; when the parent is gone it writes "1" to cgroup.kill
 * (every process in the subtree dies, setsid escapees included), waits for the
 * subtree to empty, removes it deepest first and, with --remove-parent (the launcher
 * created ROOT), tries once to remove ROOT, which only succeeds if it is empty.
 * SIGTERM (the launcher's dispose) ends it quietly.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int write_at(int dirfd, const char* name, const char* text) {
  int fd = openat(dirfd, name, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = write(fd, text, strlen(text));
  int saved = errno;
  close(fd);
  errno = saved;
  return n < 0 ? -1 : 0;
}

static int populated(int dirfd) {
  char buf[512];
  int fd = openat(dirfd, "cgroup.events", O_RDONLY | O_CLOEXEC);
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

/* rmdir of a cgroup can be EBUSY for a moment after its last process exited. */
static int remove_dir_at(int dirfd, const char* name) {
  for (int i = 0; i < 200; i++) {
    if (unlinkat(dirfd, name, AT_REMOVEDIR) == 0 || errno == ENOENT) return 0;
    if (errno != EBUSY) return -1;
    sleep_ms(10);
  }
  return -1;
}

/* Removes every cgroup below dirfd, deepest first (a proc may have made its own). */
static void remove_children(int dirfd) {
  int listfd = dup(dirfd);
  if (listfd < 0) return;
  DIR* d = fdopendir(listfd);
  if (d == NULL) {
    close(listfd);
    return;
  }
  struct dirent* entry;
  while ((entry = readdir(d)) != NULL) {
    if (entry->d_type != DT_DIR || strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0) continue;
    int child = openat(dirfd, entry->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (child < 0) continue;
    remove_children(child);
    close(child);
    remove_dir_at(dirfd, entry->d_name);
  }
  closedir(d);
}

/* Removes the directory itself by path, but only if the path still names the one we opened. */
static void remove_self(int dirfd, const char* dir) {
  struct stat opened, named;
  if (fstat(dirfd, &opened) < 0 || stat(dir, &named) < 0) return;
  if (opened.st_dev != named.st_dev || opened.st_ino != named.st_ino) return;
  remove_dir_at(AT_FDCWD, dir);
}

int main(int argc, char** argv) {
  if (argc < 2 || (argc > 2 && strcmp(argv[2], "--remove-parent") != 0)) {
    fprintf(stderr, "usage: proclaunch-watchdog <own-cgroup-dir> [--remove-parent]\n");
    return 2;
  }
  const char* dir = argv[1];
  int remove_parent = argc > 2;
  int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0) {
    fprintf(stderr, "proclaunch-watchdog: cannot open %s: %s\n", dir, strerror(errno));
    return 1;
  }

  pid_t parent = getppid();
  int pidfd = (int)syscall(SYS_pidfd_open, parent, 0);
  /* Re-check after opening: if the parent died first we were reparented, and the
     pidfd may name an unrelated process; act now instead. */
  if (pidfd >= 0 && getppid() == parent) {
    struct pollfd pfd = {pidfd, POLLIN, 0};
    while (poll(&pfd, 1, -1) < 0 && errno == EINTR) {
    }
  }

  if (write_at(dirfd, "cgroup.kill", "1") < 0) {
    /* Kernels before 5.14 have no cgroup.kill: nothing else is safe to do here. */
    fprintf(stderr, "proclaunch-watchdog: cannot write %s/cgroup.kill: %s\n", dir, strerror(errno));
    return 1;
  }
  for (int i = 0; i < 500 && populated(dirfd); i++) sleep_ms(10);
  remove_children(dirfd);
  remove_self(dirfd, dir);
  close(dirfd);
  if (remove_parent) {
    char root[PATH_MAX];
    snprintf(root, sizeof root, "%s", dir);
    char* slash = strrchr(root, '/');
    /* One attempt: ROOT with anything in it (another launcher's directory, another
       application's cgroup or process) is EBUSY and stays. */
    if (slash != NULL && slash != root) {
      *slash = '\0';
      rmdir(root);
    }
  }
  return 0;
}
