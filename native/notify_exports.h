// The JS-facing functions of the sd_notify channel (receive sockets, sending with a barrier).
#pragma once

#include <napi.h>

namespace proclaunch {

void RegisterNotifyExports(Napi::Env env, Napi::Object exports);

}  // namespace proclaunch
