{
  "target_defaults": {
    "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
    "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
    "cflags!": ["-fno-exceptions"],
    "cflags_cc!": ["-fno-exceptions"],
    "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-fexceptions"]
  },
  "targets": [
    { "target_name": "lvsk_rawsock", "sources": ["native/rawsock.cc"] },
    { "target_name": "lvsk_exchange", "sources": ["native/exchange.cc"] },
    { "target_name": "lvsk_sched", "sources": ["native/sched.cc"] },
    { "target_name": "lvsk_netns", "sources": ["native/netns.cc"] },
    { "target_name": "lvsk_spawn", "sources": ["native/spawn.cc"] }
  ]
}
