// lvsk_sched: the process scheduling keepalived's children set for themselves (lib/process.c,
// set_process_priorities and set_process_cpu_affinity), which Node cannot reach: sched_setscheduler, RLIMIT_RTTIME,
// sched_setaffinity and mlockall; and malloc_trim, which hands glibc's free memory back to the kernel.
//   setRealtime(priority, rlimitUs)  SCHED_RR | SCHED_RESET_ON_FORK at `priority` for every thread of this process
//                                    (a V8 or libuv thread the main thread waits on must not run below it); threads
//                                    started later inherit it. Scripts forked afterwards start as SCHED_OTHER.
//                                    rlimitUs > 0 sets RLIMIT_RTTIME as keepalived does: soft = rlimitUs / 2 (SIGXCPU,
//                                    a warning), hard = rlimitUs (SIGKILL).
//   setAffinity(cpus)                sched_setaffinity to the CPU ids in `cpus` for every thread of this process.
//   lockMemory()                     mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT): pages stay resident once
//                                    touched (keepalived's *_no_swap). MCL_ONFAULT keeps the heap V8 reserves but
//                                    never touches from being locked up front.
//   keepMallocThresholds()           mallopt M_MMAP_THRESHOLD and M_TRIM_THRESHOLD to 128 KiB: glibc's thresholds stay
//                                    at their start values instead of following the largest mmapped block freed.
//                                    Elsewhere than glibc, nothing.
//   releaseFreeMemory()              malloc_trim(0) on a libuv pool thread; a promise settled once it returned. glibc
//                                    keeps what a thread frees in that thread's arena (the config reader's, even after
//                                    it has exited; V8's compiler tasks'); only malloc_trim returns the free pages
//                                    inside every arena. Elsewhere than glibc, nothing.
// Errors carry { errno, code, syscall } like Node's own.
#include <napi.h>
#include <uv.h>

#include "errno-error.h"

#include <dirent.h>
#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include <string>
#include <vector>

#ifndef MCL_ONFAULT
#define MCL_ONFAULT 4
#endif

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

Napi::Value SetAffinity(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsArray()) {
    Napi::TypeError::New(env, "setAffinity(cpus)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Array cpus = info[0].As<Napi::Array>();
  cpu_set_t set;
  CPU_ZERO(&set);
  for (uint32_t i = 0; i < cpus.Length(); i++) {
    Napi::Value v = cpus[i];
    int cpu = v.IsNumber() ? v.As<Napi::Number>().Int32Value() : -1;
    if (cpu < 0 || cpu >= CPU_SETSIZE) {
      Napi::RangeError::New(env, "setAffinity: cpu id out of range").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    CPU_SET(cpu, &set);
  }
  std::vector<pid_t> tids = Threads();
  if (tids.empty()) {
    ErrnoError(env, errno != 0 ? errno : ENOENT, "opendir").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  for (pid_t tid : tids) {
    if (sched_setaffinity(tid, sizeof(set), &set) != 0 && errno != ESRCH) {
      ErrnoError(env, errno, "sched_setaffinity").ThrowAsJavaScriptException();
      return env.Undefined();
    }
  }
  return env.Undefined();
}

Napi::Value LockMemory(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) != 0) {
    ErrnoError(env, errno, "mlockall").ThrowAsJavaScriptException();
  }
  return env.Undefined();
}

/** glibc's DEFAULT_MMAP_THRESHOLD_MIN and DEFAULT_TRIM_THRESHOLD: the values malloc starts with. */
constexpr int kMallocStartThreshold = 128 * 1024;

Napi::Value KeepMallocThresholds(const Napi::CallbackInfo& info) {
#ifdef __GLIBC__
  // Either setting sets mp_.no_dyn_threshold (malloc.c do_set_mmap_threshold, do_set_trim_threshold), which stops
  // free() raising them; both are set, as a block freed before this call may have raised them already.
  mallopt(M_MMAP_THRESHOLD, kMallocStartThreshold);
  mallopt(M_TRIM_THRESHOLD, kMallocStartThreshold);
#endif
  return info.Env().Undefined();
}

/** malloc_trim on a libuv pool thread: at 30,000 real servers one takes 15 ms, which no event loop here may lose. */
class TrimWorker : public Napi::AsyncWorker {
 public:
  explicit TrimWorker(Napi::Env env) : Napi::AsyncWorker(env, "lvsk_malloc_trim"), deferred_(Napi::Promise::Deferred::New(env)) {}

  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  void Execute() override {
#ifdef __GLIBC__
    malloc_trim(0);
#endif
  }
  void OnOK() override { deferred_.Resolve(Env().Undefined()); }

 private:
  Napi::Promise::Deferred deferred_;
};

Napi::Value ReleaseFreeMemory(const Napi::CallbackInfo& info) {
  auto* worker = new TrimWorker(info.Env());
  Napi::Promise done = worker->Promise();
  worker->Queue();
  return done;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("setRealtime", Napi::Function::New(env, SetRealtime));
  exports.Set("setAffinity", Napi::Function::New(env, SetAffinity));
  exports.Set("lockMemory", Napi::Function::New(env, LockMemory));
  exports.Set("keepMallocThresholds", Napi::Function::New(env, KeepMallocThresholds));
  exports.Set("releaseFreeMemory", Napi::Function::New(env, ReleaseFreeMemory));
  return exports;
}

}  // namespace

NODE_API_MODULE(lvsk_sched, Init)
