{
  "targets": [
    {
      "target_name": "proclaunch",
      "sources": [
        "native/addon.cc",
        "native/spawn.cc",
        "native/child.cc",
        "native/clone3.cc",
        "native/clone_child.cc",
        "native/spawner_client.cc",
        "native/spawn_exports.cc",
        "native/spawner_wire.cc",
        "native/exit_watch.cc",
        "native/signal.cc",
        "native/notify_socket.cc",
        "native/notify_send.cc",
        "native/notify_exports.cc",
        "native/js_values.cc",
        "native/js_args.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_CPP_EXCEPTIONS", "_GNU_SOURCE"],
      "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-Wextra", "-fno-exceptions"],
      "conditions": [
        ["OS!='linux'", { "type": "none" }]
      ]
    },
    {
      "target_name": "proclaunch-spawner",
      "type": "executable",
      "sources": ["native/spawner.cc", "native/child.cc", "native/clone_child.cc", "native/clone3.cc"],
      "defines": ["_GNU_SOURCE"],
      "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-Wextra", "-fno-exceptions", "-fno-rtti"],
      "ldflags": ["-static-libgcc", "-Wl,--as-needed"],
      "conditions": [
        ["OS!='linux'", { "type": "none" }]
      ]
    },
    {
      "target_name": "proclaunch-watchdog",
      "type": "executable",
      "sources": ["native/watchdog.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"],
      "conditions": [
        ["OS!='linux'", { "type": "none" }]
      ]
    }
  ]
}
