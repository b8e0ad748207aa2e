#include "spawner_client.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include <string>
#include <unordered_map>
#include <vector>

#include "clone_child.h"
#include "exit_watch.h"
#include "js_values.h"
#include "signal.h"
#include "spawner_protocol.h"
#include "spawner_wire.h"

namespace proclaunch {

struct PendingSpawn {
  napi_deferred deferred;
  bool kill_group_on_exit;
  bool kill_on_teardown;
  int stdin_fd;   // our ends of the pipes, -1 when none
  int stdout_fd;
  int stderr_fd;
};

struct Spawner {
  uv_poll_t poll;  // first: the uv callbacks get the Spawner from it
  AddonState* state;
  int sock = -1;
  pid_t pid = -1;
  int pidfd = -1;
  uint32_t next_id = 0;
  std::unordered_map<uint32_t, PendingSpawn> pending;
  // The credentials it was started with: its children get them, not ours of the moment.
  uid_t uid, euid;
  gid_t gid, egid;
};

namespace {

void CloseIfOpen(int& fd) {
  if (fd >= 0) close(fd);
  fd = -1;
}

void ClosePendingFds(PendingSpawn& p) {
  CloseIfOpen(p.stdin_fd);
  CloseIfOpen(p.stdout_fd);
  CloseIfOpen(p.stderr_fd);
}

void WaitExited(int pidfd) {
  siginfo_t info;
  pollfd pfd{pidfd, POLLIN, 0};
  while (poll(&pfd, 1, -1) < 0 && errno == EINTR) {
  }
  while (syscall(SYS_waitid, P_PIDFD, pidfd, &info, WEXITED | WNOHANG, nullptr) < 0 && errno == EINTR) {
  }
}

// The server binary lives beside the addon (build/Release, prebuilds/<platform>, the
// sanitizer build): found from the addon's own file, so no path crosses the binding.
std::string SpawnerPath() {
  Dl_info info;
  if (dladdr(reinterpret_cast<void*>(&SpawnerPath), &info) == 0 || info.dli_fname == nullptr) return "";
  std::string path = info.dli_fname;
  size_t slash = path.rfind('/');
  return (slash == std::string::npos ? std::string(".") : path.substr(0, slash)) + "/proclaunch-spawner";
}

void OnSpawnerClosed(uv_handle_t* handle) {
  Spawner* spawner = reinterpret_cast<Spawner*>(handle);
  AddonState* state = spawner->state;
  delete spawner;
  state->HandleClosed();
}

// Ends our side of the server: its socket, its zombie, the poll handle. Pending
// requests must have been settled or dropped by the caller.
void CloseSpawner(Spawner* spawner) {
  AddonState* state = spawner->state;
  if (state->spawner == spawner) state->spawner = nullptr;
  uv_poll_stop(&spawner->poll);
  CloseIfOpen(spawner->sock);
  if (spawner->pidfd >= 0) {
    // EOF on its socket makes it exit; a server stuck for any reason gets SIGKILL.
    syscall(SYS_pidfd_send_signal, spawner->pidfd, SIGKILL, nullptr, 0);
    WaitExited(spawner->pidfd);
    CloseIfOpen(spawner->pidfd);
  }
  uv_close(reinterpret_cast<uv_handle_t*>(&spawner->poll), OnSpawnerClosed);
}

void UpdateRef(Spawner* spawner) {
  uv_handle_t* handle = reinterpret_cast<uv_handle_t*>(&spawner->poll);
  if (spawner->pending.empty()) uv_unref(handle); else uv_ref(handle);
}

void SettleReply(Napi::Env env, AddonState* state, PendingSpawn& p, const SpawnReplyWire& reply, int pidfd) {
  napi_value result;
  if (reply.pid > 0 && pidfd >= 0 && reply.stage == 0) {
    SpawnOutcome outcome;
    outcome.pid = reply.pid;
    outcome.pidfd = pidfd;
    outcome.stdin_fd = p.stdin_fd;
    outcome.stdout_fd = p.stdout_fd;
    outcome.stderr_fd = p.stderr_fd;
    p.stdin_fd = p.stdout_fd = p.stderr_fd = -1;  // now the watch's
    result = WatchSpawned(env, state, outcome, p.kill_group_on_exit, p.kill_on_teardown);
  } else {
    // A child that failed before exec is ours to reap (CLONE_PARENT).
    if (pidfd >= 0) {
      WaitExited(pidfd);
      close(pidfd);
    }
    ClosePendingFds(p);
    const char* stage = "spawn-server";
    const char* syscall_name = "recvmsg";
    if (reply.stage == kStageClone) {
      stage = "clone";
      syscall_name = reply.used_clone3 ? "clone3" : "clone";
    } else if (reply.stage != 0) {
      DescribeStage(reply.stage, &stage, &syscall_name);
    }
    result = FailureObject(env, stage, syscall_name, reply.stage == 0 ? EPROTO : reply.err);
  }
  if (result == nullptr) napi_get_undefined(env, &result);
  napi_resolve_deferred(env, p.deferred, result);
}

// The server is gone (crashed, killed): every request it had is answered with a clear
// failure, and the next launch starts a new server.
void FailAllPending(Napi::Env env, Spawner* spawner, int err) {
  for (auto& [id, p] : spawner->pending) {
    ClosePendingFds(p);
    napi_resolve_deferred(env, p.deferred, FailureObject(env, "spawn-server", "recvmsg", err));
  }
  spawner->pending.clear();
}

void OnSpawnerReadable(uv_poll_t* handle, int status, int /*events*/) {
  Spawner* spawner = reinterpret_cast<Spawner*>(handle);
  AddonState* state = spawner->state;
  Napi::Env env(state->env);
  Napi::HandleScope scope(env);
  // One callback scope for every reply this wake-up: microtasks run once, after all.
  napi_value resource;
  napi_create_object(env, &resource);
  napi_callback_scope callback_scope;
  bool scoped = napi_open_callback_scope(env, resource, state->async_context, &callback_scope) == napi_ok;
  // On an error (libuv reports the peer's death with unread requests as POLLERR), the
  // replies already queued are still read first: each is a child of ours.
  int dead_errno = 0;
  for (;;) {
    SpawnReplyWire reply;
    int pidfd = -1;
    int r = ReadReply(spawner->sock, &reply, &pidfd, MSG_DONTWAIT);
    if (r == 0) {
      if (status < 0) dead_errno = EPIPE;
      break;
    }
    if (r < 0) {
      dead_errno = errno;
      break;
    }
    auto it = spawner->pending.find(reply.id);
    if (it == spawner->pending.end()) {
      // Not ours (cannot happen): never leave a child unreaped.
      if (pidfd >= 0) {
        KillAndReapUnwatched(reply.pid, pidfd);
      }
      continue;
    }
    PendingSpawn p = it->second;
    spawner->pending.erase(it);
    SettleReply(env, state, p, reply, pidfd);
  }
  if (dead_errno != 0) {
    // ECONNRESET when it died with requests unread, else EPIPE.
    int so_error = 0;
    socklen_t length = sizeof so_error;
    if (getsockopt(spawner->sock, SOL_SOCKET, SO_ERROR, &so_error, &length) == 0 && so_error != 0) dead_errno = so_error;
    FailAllPending(env, spawner, dead_errno);
    CloseSpawner(spawner);
  } else {
    UpdateRef(spawner);
  }
  if (scoped) napi_close_callback_scope(env, callback_scope);
}

Spawner* StartSpawner(AddonState* state, SpawnOutcome* failure) {
  std::string path = SpawnerPath();
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
    failure->failed_stage = "spawn-server";
    failure->failed_syscall = "socketpair";
    failure->err = errno;
    return nullptr;
  }
  // Room for a few dozen launches in flight (capped by net.core.wmem_max).
  int bytes = 4 * 1024 * 1024;
  setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes);
  setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
  char* paths[] = {path.data(), nullptr};
  char name[] = "proclaunch-spawner";
  char* argv[] = {name, nullptr};
  char* envp[] = {nullptr};
  SpawnRequest request = {};
  request.plan.exec_paths = paths;
  request.plan.argv = argv;
  request.plan.envp = envp;
  // Its 0-2 are ours, so that a proc's inherited stdio is the Node process's.
  request.plan.stdin_mode = kStdinInherit;
  request.plan.cgroup_procs_fd = -1;
  request.plan.fd3_source = sv[1];
  // It must die with the thread that made it (the environment's), even by SIGKILL.
  request.plan.parent_death_signal = SIGKILL;
  SpawnOutcome started = SpawnProc(request);
  close(sv[1]);
  if (started.failed_stage != nullptr) {
    close(sv[0]);
    failure->failed_stage = "spawn-server";
    failure->failed_syscall = started.failed_syscall;
    failure->err = started.err;
    return nullptr;
  }
  Spawner* spawner = new Spawner();
  spawner->uid = getuid();
  spawner->euid = geteuid();
  spawner->gid = getgid();
  spawner->egid = getegid();
  spawner->state = state;
  spawner->sock = sv[0];
  spawner->pid = started.pid;
  spawner->pidfd = started.pidfd;
  int r = uv_poll_init(state->loop, &spawner->poll, spawner->sock);
  if (r == 0) r = uv_poll_start(&spawner->poll, UV_READABLE, OnSpawnerReadable);
  if (r != 0) {
    close(spawner->sock);
    syscall(SYS_pidfd_send_signal, spawner->pidfd, SIGKILL, nullptr, 0);
    WaitExited(spawner->pidfd);
    close(spawner->pidfd);
    delete spawner;
    failure->failed_stage = "spawn-server";
    failure->failed_syscall = "uv_poll_start";
    failure->err = -r;
    return nullptr;
  }
  state->refs++;
  UpdateRef(spawner);
  return spawner;
}

void Fail(SpawnOutcome* failure, const char* stage, const char* syscall_name, int err) {
  failure->failed_stage = stage;
  failure->failed_syscall = syscall_name;
  failure->err = err;
}

}  // namespace

Napi::Value WatchSpawned(Napi::Env env, AddonState* state, SpawnOutcome& outcome, bool kill_group_on_exit,
                         bool kill_on_teardown) {
  uint32_t id = StartWatch(state, outcome.pid, outcome.pidfd, kill_group_on_exit, kill_on_teardown);
  if (id == 0) {
    // Cannot watch it: do not leave it running unsupervised.
    int err = errno;
    KillAndReapUnwatched(outcome.pid, outcome.pidfd);
    CloseIfOpen(outcome.stdout_fd);
    CloseIfOpen(outcome.stderr_fd);
    CloseIfOpen(outcome.stdin_fd);
    return FailureObject(env, "watch", "uv_poll_start", err);
  }
  return PlainObject(env, {{"id", Napi::Number::New(env, id)},
                           {"pid", Napi::Number::New(env, outcome.pid)},
                           {"stdoutFd", Napi::Number::New(env, outcome.stdout_fd)},
                           {"stderrFd", Napi::Number::New(env, outcome.stderr_fd)},
                           {"stdinFd", Napi::Number::New(env, outcome.stdin_fd)}});
}

Submitted SubmitSpawn(AddonState* state, const AsyncSpawn& spawn, napi_deferred deferred, SpawnOutcome* failure) {
  ChildPlan& plan = *spawn.plan;
  Spawner* spawner = state->spawner;
  uint32_t id = spawner == nullptr ? 1 : spawner->next_id + 1;
  std::vector<char> data;
  uint32_t fd_bits = 0;
  if (plan.stdin_mode == kStdinPipe) fd_bits |= kFdStdin;
  if (spawn.capture_stdio) fd_bits |= kFdStdout | kFdStderr;
  if (spawn.cgroup_path != nullptr) fd_bits |= kFdCgroup;
  if (!EncodeRequest(spawn, id, fd_bits, &data)) return Submitted::kTooLarge;

  int in_pipe[2] = {-1, -1}, out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1};
  int cgroup_fd = -1;
  auto close_all = [&]() {
    CloseIfOpen(in_pipe[0]); CloseIfOpen(in_pipe[1]);
    CloseIfOpen(out_pipe[0]); CloseIfOpen(out_pipe[1]);
    CloseIfOpen(err_pipe[0]); CloseIfOpen(err_pipe[1]);
    CloseIfOpen(cgroup_fd);
  };
  if ((fd_bits & kFdStdin) && pipe2(in_pipe, O_CLOEXEC) < 0) {
    Fail(failure, "pipe", "pipe2", errno);
    close_all();
    return Submitted::kFailed;
  }
  if ((fd_bits & kFdStdout) && (pipe2(out_pipe, O_CLOEXEC) < 0 || pipe2(err_pipe, O_CLOEXEC) < 0)) {
    Fail(failure, "pipe", "pipe2", errno);
    close_all();
    return Submitted::kFailed;
  }
  if (spawn.cgroup_path != nullptr) {
    cgroup_fd = open(spawn.cgroup_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (cgroup_fd < 0) {
      Fail(failure, "cgroup", "open", errno);
      close_all();
      return Submitted::kFailed;
    }
  }
  int fds[kMaxRequestFds];
  int fd_count = 0;
  if (fd_bits & kFdStdin) fds[fd_count++] = in_pipe[0];
  if (fd_bits & kFdStdout) fds[fd_count++] = out_pipe[1];
  if (fd_bits & kFdStderr) fds[fd_count++] = err_pipe[1];
  if (fd_bits & kFdCgroup) fds[fd_count++] = cgroup_fd;

  // process.setuid() and friends since the server started: its children would get the
  // old credentials. Replace an idle server; a busy one leaves this launch in-process.
  if (spawner != nullptr && (spawner->uid != getuid() || spawner->euid != geteuid() ||
                             spawner->gid != getgid() || spawner->egid != getegid())) {
    if (!spawner->pending.empty()) {
      close_all();
      return Submitted::kTooLarge;
    }
    CloseSpawner(spawner);
  }
  // A server that died since the last launch is replaced, once.
  for (int attempt = 0;; attempt++) {
    if (state->spawner == nullptr) {
      state->spawner = StartSpawner(state, failure);
      if (state->spawner == nullptr) {
        close_all();
        return Submitted::kFailed;
      }
    }
    spawner = state->spawner;
    ssize_t n = SendRequest(spawner->sock, data, fds, fd_count);
    if (n >= 0) break;
    int err = errno;
    if ((err == EPIPE || err == ECONNRESET) && attempt == 0 && spawner->pending.empty()) {
      CloseSpawner(spawner);
      continue;
    }
    close_all();
    // A full socket (many launches in flight with large environments): in-process.
    if (err == EAGAIN || err == EMSGSIZE || err == ENOBUFS) return Submitted::kTooLarge;
    Fail(failure, "spawn-server", "sendmsg", err);
    return Submitted::kFailed;
  }
  // The ids in a request are the server's: re-stamp if a restart reset them.
  spawner->next_id = id;
  // The kernel holds the child's ends in the message now.
  CloseIfOpen(in_pipe[0]);
  CloseIfOpen(out_pipe[1]);
  CloseIfOpen(err_pipe[1]);
  CloseIfOpen(cgroup_fd);
  spawner->pending.emplace(id, PendingSpawn{deferred, spawn.kill_group_on_exit, spawn.kill_on_teardown, in_pipe[1],
                                            out_pipe[0], err_pipe[0]});
  UpdateRef(spawner);
  return Submitted::kSent;
}

bool StopIdleSpawner(AddonState* state) {
  Spawner* spawner = state->spawner;
  if (spawner == nullptr) return true;
  if (!spawner->pending.empty()) return false;
  CloseSpawner(spawner);
  return true;
}

void StopSpawner(AddonState* state) {
  Spawner* spawner = state->spawner;
  if (spawner == nullptr) return;
  uv_poll_stop(&spawner->poll);
  // The server answers what it has, then sees EOF and exits.
  shutdown(spawner->sock, SHUT_WR);
  int flags = fcntl(spawner->sock, F_GETFL);
  if (flags >= 0) fcntl(spawner->sock, F_SETFL, flags & ~O_NONBLOCK);
  while (!spawner->pending.empty()) {
    SpawnReplyWire reply;
    int pidfd = -1;
    if (ReadReply(spawner->sock, &reply, &pidfd, 0) <= 0) break;
    auto it = spawner->pending.find(reply.id);
    bool keep = it != spawner->pending.end() && !it->second.kill_on_teardown && reply.stage == 0;
    if (pidfd >= 0) {
      if (keep) {
        close(pidfd);  // left running on purpose (parentDeathSignal: false)
      } else {
        KillAndReapUnwatched(reply.pid, pidfd);
      }
    }
    if (it != spawner->pending.end()) {
      ClosePendingFds(it->second);
      spawner->pending.erase(it);
    }
  }
  // Promises of launches still pending stay unsettled: no JS runs any more.
  for (auto& [id, p] : spawner->pending) ClosePendingFds(p);
  spawner->pending.clear();
  CloseSpawner(spawner);
}

}  // namespace proclaunch
