// Per-environment addon state: one per Node environment (main thread or worker), so
// workers never share watches, callbacks or the child stack.
#pragma once

#include <napi.h>
#include <uv.h>

#include <cstdint>
#include <unordered_map>

namespace proclaunch {

struct Watch;
struct NotifySocket;
struct Spawner;

struct AddonState {
  napi_env env = nullptr;
  uv_loop_t* loop = nullptr;
  napi_async_context async_context = nullptr;
  Napi::FunctionReference on_exit;    // (id, kind, status, coreDumped, userMs, systemMs, maxRssKb, groupLeft)
  Napi::FunctionReference on_notify;  // (socketId, pid, uid, text)
  std::unordered_map<uint32_t, Watch*> watches;
  std::unordered_map<uint32_t, NotifySocket*> sockets;
  Spawner* spawner = nullptr;  // the spawn server, started on the first spawnAsync
  uint32_t next_id = 0;  // ids start at 1; 0 means "none"
  // Open uv handles + 1 for the environment itself; freed when it reaches zero, so
  // close callbacks that run after environment teardown still find valid state.
  int refs = 1;
  bool tearing_down = false;
  napi_async_cleanup_hook_handle cleanup_hook = nullptr;

  uint32_t NextId() { return ++next_id == 0 ? ++next_id : next_id; }
  // Calls a JS callback from a uv callback (the caller opens a HandleScope for the args).
  void CallJs(Napi::FunctionReference& fn, std::initializer_list<napi_value> args);
  void HandleClosed();
};

void ReleaseState(AddonState* state);

}  // namespace proclaunch
