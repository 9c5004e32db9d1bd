// lvsk_sched: the process scheduling keepalived's children set for themselves (lib/process.c,
// set_process_priorities), which Node cannot reach: sched_setscheduler and RLIMIT_RTTIME.
//   setRealtime(priority, rlimitUs)  SCHED_RR | SCHED_RESET_ON_FORK at `priority` for every thread of this process
//                                    (a V8 or libuv thread the main thread waits on must not run below it); threads
//                                    started later inherit it. Scripts forked afterwards start as SCHED_OTHER.
//                                    rlimitUs > 0 sets RLIMIT_RTTIME as keepalived does: soft = rlimitUs / 2 (SIGXCPU,
//                                    a warning), hard = rlimitUs (SIGKILL).
// Errors carry { errno, code, syscall } like Node's own.
#include <napi.h>
#include <uv.h>

#include "errno-error.h"

#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <string>
#include <vector>

#ifndef SCHED_RESET_ON_FORK
#define SCHED_RESET_ON_FORK 0x40000000
#endif

namespace {

/** The thread ids of this process, from /proc/self/task. */
std::vector<pid_t> Threads() {
  std::vector<pid_t> tids;
  DIR* d = opendir("/proc/self/task");
  if (d == nullptr) return tids;
  while (struct dirent* e = readdir(d)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    tids.push_back(static_cast<pid_t>(strtol(e->d_name, nullptr, 10)));
  }
  closedir(d);
  return tids;
}

Napi::Value SetRealtime(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsNumber()) {
    Napi::TypeError::New(env, "setRealtime(priority, rlimitUs)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  struct sched_param sp = {};
  sp.sched_priority = info[0].As<Napi::Number>().Int32Value();
  int64_t rlimit = info[1].As<Napi::Number>().Int64Value();
  std::vector<pid_t> tids = Threads();
  if (tids.empty()) {
    ErrnoError(env, errno != 0 ? errno : ENOENT, "opendir").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  for (pid_t tid : tids) {
    // A thread that exited since the listing is no failure.
    if (sched_setscheduler(tid, SCHED_RR | SCHED_RESET_ON_FORK, &sp) != 0 && errno != ESRCH) {
      ErrnoError(env, errno, "sched_setscheduler").ThrowAsJavaScriptException();
      return env.Undefined();
    }
  }
  if (rlimit > 0) {
    struct rlimit rl = {static_cast<rlim_t>(rlimit / 2), static_cast<rlim_t>(rlimit)};
    if (setrlimit(RLIMIT_RTTIME, &rl) != 0) {
      ErrnoError(env, errno, "setrlimit").ThrowAsJavaScriptException();
      return env.Undefined();
    }
  }
  return env.Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("setRealtime", Napi::Function::New(env, SetRealtime));
  return exports;
}

}  // namespace

NODE_API_MODULE(lvsk_sched, Init)
